"""Blocks of the 50-class technique pages (seed 000), one page per technique.

Same block format as core.report (the app renders them, the HTML export
embeds them). Every figure comes from the run records; model tables and
parameter counts are generated from the Keras models themselves.
"""
from __future__ import annotations

import functools
import statistics
from pathlib import Path

import pandas as pd

from core import charts
from core.results import experiment_rows
from core.verdict import compare
from experiments import caltech as study

# Our explanation of each technique, and how seed 000 ran it. (en, zh)
TEXT = {
    "image-size": (
        "A larger input keeps more detail but multiplies the work of every convolution and, with a "
        "flatten into a dense layer, the number of weights: the baseline has 0.6 M parameters at 32 x 32, "
        "1.7 M at 48 x 48 and 3.2 M at 64 x 64, nearly all of them in the first dense layer. More "
        "weights on the same 4,200 training images means more room to overfit. Seed 000 compared sizes "
        "and saw a slight rise.",
        "輸入越大保留越多細節，但每層卷積的計算量與（攤平後接全連接層時的）權重數都隨之倍增：基準模型在 32 x 32 "
        "約 0.6 M 參數、48 x 48 約 1.7 M、64 x 64 約 3.2 M，幾乎全在第一個全連接層。同樣 4,200 張訓練影像、"
        "更多權重，就更容易過擬合。原報告比較了不同大小，看到些微上升。"),
    "class-weights": (
        "The fifty classes are unbalanced about 14 to 1 (airplanes and motorbikes ~800 images, the "
        "smallest 59). Class weights scale each image's loss by a weight of its class, so a rare class's "
        "mistakes cost more. Formula 1 (largest count / class count) gives weights of 1 and above, which "
        "also raises the overall step size; formula 2 (total / (classes x class count), scikit-learn's "
        "'balanced') averages to 1 over the images. Overall accuracy is dominated by the big classes, so "
        "the per-class view below is where class weights show (or don't).",
        "五十類的影像數約 14 比 1 不平衡（airplanes、motorbikes 約 800 張，最小類 59 張）。類別權重以類別的權重"
        "放大每張影像的損失，讓少數類的錯誤代價更高。公式一（最大類數量 / 該類數量）權重皆 ≥ 1，也等於整體加大步伐；"
        "公式二（總數 / (類別數 x 該類數量)，即 scikit-learn 的 'balanced'）在影像上平均為 1。整體準確度由大類主導，"
        "因此下方各類別的準確度才看得出類別權重的作用。"),
    "batch-size": (
        "The batch size sets how many images each weight update averages over. Small batches give "
        "more, noisier updates per epoch (noise that can help generalisation but costs time per image); "
        "large ones give fewer, smoother updates and, at a fixed learning rate, less progress per epoch. "
        "Seed 000 saw accuracy rise when it changed the batch size.",
        "批次大小決定每次更新權重平均了多少張影像。小批次每個 epoch 更新次數多、較嘈雜（有時有助泛化，但每張影像"
        "花的時間較多）；大批次更新少而平滑，在固定學習率下每個 epoch 的進展較少。原報告調整批次大小後準確度上升。"),
    "shuffle-buffer": (
        "tf.data shuffles with a buffer: it fills the buffer with the next N images and draws each batch "
        "from it at random. Our training set is stored class by class, as a folder listing gives it. A "
        "buffer smaller than a class hands the network long runs of a single class, so each update pulls "
        "the weights towards one class; a buffer as large as the set is a true shuffle. Seed 000 tried "
        "7,000 and 70,000, both at least as large as its training set, and saw no change, which is "
        "exactly what a full shuffle predicts.",
        "tf.data 以緩衝區打亂：先把接下來 N 張影像放進緩衝區，再從中隨機抽出組成批次。我們的訓練集依類別順序儲存"
        "（如同資料夾列出的順序）。緩衝區比一個類別還小時，網路會連續看到同一類，每次更新都把權重拉向單一類別；"
        "緩衝區與整個資料集一樣大才是真正的打亂。原報告試了 7,000 與 70,000，兩者都不小於它的訓練集，因此沒有變化，"
        "正符合完整打亂的預期。"),
    "learning-rate": (
        "The learning rate scales every step of Adam. Too small and the budget runs out before the "
        "network has learnt; too large and the steps overshoot, training is unstable or stalls. Adam's "
        "default is 1e-3. Seed 000 reports a rise from changing it.",
        "學習率決定 Adam 每一步的大小。太小，預算用完網路還沒學好；太大，步伐衝過頭，訓練不穩或停滯。Adam 預設為 "
        "1e-3。原報告改變學習率後準確度上升。"),
    "lr-decay": (
        "Lowering the learning rate as training goes on lets the network take big steps early and settle "
        "into a minimum later. ReduceLROnPlateau halves it when the validation loss stops improving; a "
        "cosine schedule lowers it smoothly to zero over the epoch budget. Seed 000 saw no change.",
        "隨訓練進行降低學習率，讓網路前期大步前進、後期穩定收斂。ReduceLROnPlateau 在驗證損失停止改善時把學習率"
        "減半；餘弦排程則在 epoch 預算內平滑降到 0。原報告沒有看到變化。"),
    "small-kernels": (
        "Two stacked 3x3 convolutions see a 5x5 window with fewer weights than one 5x5 kernel, and add a "
        "non-linearity in between. Seed 000's version stacks three valid 3x3 convolutions per stage with "
        "few filters, so the feature map entering the dense layer is smaller and thinner: 3.0 M parameters "
        "against 16.8 M for the same-padded baseline at its 128 x 128 input. It saw no change in accuracy.",
        "兩層堆疊的 3x3 卷積與一層 5x5 卷積的感受野相同，但權重更少，且中間多一次非線性。原報告的版本每段堆疊三層 "
        "valid 3x3 卷積、濾波器較少，因此進入全連接層的特徵圖更小更薄：在它的 128 x 128 輸入下為 3.0 M 參數，"
        "對比 same padding 基準模型的 16.8 M。原報告認為準確度不變。"),
    "batchnorm": (
        "BatchNormalization rescales each layer's outputs over the batch to zero mean and unit variance, "
        "then learns a scale and shift. It makes training less sensitive to initialisation and learning "
        "rate and adds a little noise (batch statistics) that can regularise. Its running statistics make "
        "validation figures noisier in the first epochs. Seed 000 placed it after each convolution and "
        "after the dense layer and saw no change.",
        "BatchNormalization 在每個批次上把一層的輸出標準化為平均 0、變異 1，再學習縮放與平移。它讓訓練對初始化與"
        "學習率較不敏感，批次統計量帶來的少量雜訊也有正則化效果；其移動平均統計會讓前幾個 epoch 的驗證數字較不穩。"
        "原報告把它放在每個卷積層與全連接層之後，認為沒有變化。"),
    "avg-pooling": (
        "Max pooling keeps the strongest response in each 2x2 window (is the feature there?); average "
        "pooling keeps the mean (how much of it is there?), which smooths the map and keeps weak evidence. "
        "Seed 000 saw no change.",
        "最大池化保留每個 2x2 視窗中最強的反應（特徵是否出現）；平均池化保留平均值（出現了多少），使特徵圖較平滑、"
        "保留較弱的訊號。原報告認為沒有變化。"),
    "same-padding": (
        "A convolution without padding ('valid') shrinks the map by f − 1 pixels and sees border pixels "
        "less often; 'same' pads with zeros so the output keeps the input's size, Output = (Input + 2p − "
        "f)/s + 1 with p = (f − 1)/2 at stride 1. Here it also enlarges the map entering the dense layer, "
        "so the same-padded baseline has more parameters. Seed 000 saw no change.",
        "不填補（'valid'）的卷積讓特徵圖縮小 f − 1 個像素，邊緣像素也較少被看到；'same' 以 0 填補使輸出維持輸入"
        "大小，Output = (Input + 2p − f)/s + 1，步長 1 時 p = (f − 1)/2。此處它也讓進入全連接層的特徵圖變大，"
        "因此 same padding 的基準模型參數較多。原報告認為沒有變化。"),
    "activation": (
        "ReLU passes positive values unchanged and zeroes the rest; its slope is 1 wherever it is active, "
        "so gradients reach the early layers intact. The sigmoid squashes everything into (0, 1) with a "
        "slope of at most 0.25, so gradients shrink at every layer and training starts slowly. GELU is a "
        "smooth ReLU used by modern networks. Seed 000 saw accuracy fall with a different activation.",
        "ReLU 讓正值原樣通過、其餘歸零；作用區間斜率為 1，梯度能完整傳到前面的層。Sigmoid 把一切壓進 (0, 1)，"
        "斜率最多 0.25，梯度每經過一層就縮小，訓練起步緩慢。GELU 是現代網路常用的平滑版 ReLU。原報告更換激活函數"
        "後準確度下降。"),
    "augmentation": (
        "Augmentation shows the network a randomly altered copy of each training image every epoch "
        "(flipped, rotated, zoomed, shifted), so it cannot memorise pixels and must learn what stays the "
        "same. The alterations must keep the label: a horizontal flip of a photograph is still the same "
        "object, a vertical flip (an upside-down airplane) rarely occurs in test images. The layers are "
        "part of the model and active only in training. Seed 000 used vertical and horizontal flips with "
        "rotations of up to 0.2 x 360° and saw a rise. The last variant keeps the mild one's rotation, "
        "zoom and shift and drops its horizontal flip: it was added when the best-combination runs showed "
        "that on this dataset even a horizontal flip does not keep what the test rewards.",
        "資料增強在每個 epoch 給網路看每張訓練影像的隨機變形版本（翻轉、旋轉、縮放、平移），使它無法死記像素，"
        "必須學到不變的部分。變形必須保持標籤：照片水平翻轉仍是同一物體，垂直翻轉（倒過來的飛機）在測試影像中"
        "幾乎不會出現。這些層是模型的一部分，只在訓練時作用。原報告使用垂直與水平翻轉及最多 0.2 x 360° 的旋轉，"
        "準確度上升。最後一個變體保留溫和變體的旋轉、縮放與平移，只去掉水平翻轉：最佳組合的實驗顯示，"
        "在這個資料集上連水平翻轉也會丟掉測試所獎勵的資訊，因此加入這個變體。"),
    "architectures": (
        "Seed 000 also tried three architectures from Kaggle notebooks: a four-convolution flower "
        "classifier, an advanced MNIST network (stacked 3x3 convolutions, strided 5x5 convolutions "
        "instead of pooling, BatchNorm, dropout 0.4) and a cats-vs-dogs network (three 5x5 conv blocks "
        "with BatchNorm and dropout). It ran them at 224 x 224 with class weights, a learning rate of "
        "0.01 and ReduceLROnPlateau; its best, the cats-vs-dogs network, reached 40.8 % test accuracy "
        "on its own 50-class data, which is not ours, so that figure is not comparable with ours. Here "
        "each runs under the baseline's protocol at 48 x 48, so only the architecture differs.",
        "原報告另外試了三個 Kaggle 筆記本的架構：四層卷積的花朵分類器、進階 MNIST 網路（堆疊 3x3 卷積、以步長 2 的 "
        "5x5 卷積取代池化、BatchNorm、dropout 0.4）與貓狗分類網路（三個含 BatchNorm 與 dropout 的 5x5 卷積區塊）。"
        "它以 224 x 224、類別權重、學習率 0.01 與 ReduceLROnPlateau 訓練；最佳的貓狗網路在它自己的 50 類資料上"
        "達到 40.8 % 測試準確度，資料與我們不同，因此不能直接比較。此處每個架構都用基準模型的流程在 48 x 48 上訓練，"
        "只有架構不同。"),
    "best": (
        "The study changes one thing at a time; here the techniques that helped on seed 0 (the "
        "ingredients table shows how each fares over more seeds) go together, against the same "
        "baseline and test split, in two steps. **c50-best** keeps the seed's model and the "
        "study's 15-epoch budget and adds BatchNorm, same padding and LR on plateau. **c50-best-long** "
        "goes further: a VGG-style network at 64 x 64 (3x3 same convolutions with BatchNorm, then global "
        "average pooling instead of the baseline's flatten into a 256-unit dense layer, which holds most "
        "of the baseline's weights and is where it overfits), mild augmentation, and a 40-epoch budget "
        "with a cosine learning-rate decay and early stopping (patience 10). Augmentation lost in the "
        "15-epoch study because it slows learning; it needs the longer budget to pay off, which the "
        "no-augmentation ablation (**c50-best-long-noaug**) measures. So that the gain is not simply "
        "the longer budget, **c50-baseline-long** gives the seed's model the same budget, LR schedule and stopping rule. "
        "c50-best-long still ends far better on its training images than on validation (95 % against 80 % on "
        "seed 0), so **c50-best-strong** regularises the same network harder: stronger augmentation (more "
        "rotation, zoom and shift, plus contrast), decoupled weight decay (0.05, as AdamW) and 60 epochs. "
        "Over three seeds it ends level with c50-best-long and still memorises (95-96 % on its training "
        "images, 81-82 % on validation). "
        "Every one of these sees a photograph some 300 pixels wide shrunk to 64 x 64; **c50-best-hires** is "
        "c50-best-strong at 128 x 128 with a 5x5 stride-2 first convolution, so the network learns its own "
        "downsampling and every later layer costs what it did at 64 x 64 (seed 0's median epoch took 69 s on the 2 cores, as c50-best-strong's did in the same session; seeds 1-2 ran on a faster session's machine, so the table's s / epoch mixes two speeds). "
        "c50-best-hires in turn ends at 96 % on its training images against 84-85 % on validation, so "
        "**c50-best-mix** trains the same network on soft targets: every batch is blended with a shuffled "
        "copy of itself, either by CutMix (a patch of one photograph pasted into another) or by MixUp (the "
        "two averaged), one drawn per batch, each label mixed in the same proportion, plus 10 % label "
        "smoothing. The network can no longer be sure of any training image, which is the point. "
        "In 60 epochs that cost as much as it gained (it ended at about the same accuracy on its mixed "
        "training batches as on validation: underfitted, not overfitted), so **c50-best-mix-long** gives the same recipe "
        "100 epochs, the budget (and the early-stopping patience with it) the only change, and "
        "**c50-best-mix-xlong** 150 epochs, to see whether the budget still pays. "
        "The no-augmentation ablation, **c50-best-long-noaug**, trained last, overturned the chain: without "
        "any augmentation c50-best-long's network beats every augmented network above, in 40 epochs at 64 x 64. "
        "Every augmented recipe here includes a horizontal flip, and the table of mirrored test images shows "
        "what it costs: in many Caltech-101 classes the objects face one way in training and test photographs alike, so "
        "a network that never saw a flip learns that cue and loses heavily when the test images are mirrored, "
        "while a flip-trained one cannot use it. **c50-best-long-noflip** keeps the rest of the mild "
        "augmentation (rotation, zoom, shift) and drops only the flip, to tell the flip from augmentation as a whole. "
        "It lands between the two: about 2.5 points above c50-best-long and about 4 below c50-best-long-noaug "
        "over three seeds each, so in the 40-epoch budget the flip is about two fifths of what augmentation costs "
        "and the rotation, zoom and shift the rest (in the 15-epoch study the flip was nearly all of it). "
        "The goal is 15 points of test accuracy above the baseline, judged on the mean over all three planned "
        "seeds: a row with fewer is marked provisional, since single seeds of one recipe differ by up to "
        "5 points here. Seed 000's own best was 40.8 % on "
        "its own 50-class data, not Caltech-101, so it is not compared with these figures.",
        "研究中每次只改一件事；本頁把在 seed 0 上有幫助的技巧（各成分在更多 seed 上的表現見成分表）合在一起，與同一個基準、同一份測試集比較，分兩步。"
        "**c50-best** 保留原報告的模型與研究的 15 個 epoch 預算，加上 BatchNorm、same padding 與停滯時降低學習率。"
        "**c50-best-long** 更進一步：64 x 64 輸入的 VGG 式網路（含 BatchNorm 的 3x3 same 卷積），以全域平均池化取代"
        "基準模型把特徵攤平接 256 單元全連接層的做法（基準模型大部分的權重都在這一層，也是它過擬合之處），加上溫和的"
        "數據增強，以及 40 個 epoch 的預算、餘弦學習率衰減與 early stopping（patience 10）。數據增強在 15 個 epoch 的"
        "研究中落後，因為它讓學習變慢；需要較長的預算才能得到好處，無增強的對照（**c50-best-long-noaug**）量測"
        "這一點。為了確認提升不只是來自較長的預算，**c50-baseline-long** 讓原報告的模型使用相同的預算、停止規則與學習率排程。"
        "c50-best-long 在訓練影像上仍遠好於驗證集（seed 0：95 % 對 80 %），因此 **c50-best-strong** 對同一個網路加強正則化："
        "更強的數據增強（更大的旋轉、縮放與平移，再加對比度）、解耦的權重衰減（0.05，如 AdamW）與 60 個 epoch。"
        "三個 seed 的結果與 c50-best-long 持平，而且仍在記憶訓練影像（訓練影像 95-96 %，驗證集 81-82 %）。"
        "以上每個模型看到的都是寬約 300 像素、縮小到 64 x 64 的照片；**c50-best-hires** 是 128 x 128 輸入的 c50-best-strong，"
        "第一層改為步長 2 的 5x5 卷積，讓網路自己學習縮小的方式，之後每一層的計算量與 64 x 64 時相同（seed 0 在 2 核心上每個 epoch 的中位數為 69 秒，與同一工作階段的 c50-best-strong 相同；seed 1-2 在較快的機器上執行，因此表中的秒 / epoch 混合了兩種速度）。"
        "c50-best-hires 在訓練影像上仍達 96 %，驗證集只有 84-85 %，因此 **c50-best-mix** 以軟標籤訓練同一個網路："
        "每個批次與自身打亂後的複本混合，每批隨機選用 CutMix（把一張照片的一塊貼到另一張上）或 MixUp（兩張相加平均），"
        "標籤依相同比例混合，另加 10 % 的標籤平滑。網路因此無法對任何一張訓練影像完全確定，這正是目的。"
        "在 60 個 epoch 內，它得到的與付出的相抵（結束時在混合後的訓練批次上與驗證集上的準確度相近：是欠擬合而非過擬合），"
        "因此 **c50-best-mix-long** 以相同配方訓練 100 個 epoch，只改變預算（以及隨之放寬的 early stopping patience），"
        "**c50-best-mix-xlong** 再延長到 150 個 epoch，檢驗預算是否仍有回報。"
        "最後訓練的無增強對照 **c50-best-long-noaug** 推翻了這條路線：不做任何增強時，c50-best-long 的網路在 64 x 64、"
        "40 個 epoch 內就勝過以上所有使用增強的網路。這裡每個增強配方都含水平翻轉，左右鏡像測試影像的表格顯示了它的代價："
        "Caltech-101 許多類別的物體在訓練與測試照片中都朝向同一邊，沒看過翻轉的網路會學到這個線索，測試影像一經鏡像就大幅下降，"
        "而以翻轉訓練的網路則無法利用它。**c50-best-long-noflip** 保留其餘的溫和增強（旋轉、縮放、平移），只去掉翻轉，"
        "以區分翻轉與增強整體的影響。它落在兩者之間：各以三個 seed 計，比 c50-best-long 高約 2.5 點、比 c50-best-long-noaug 低約 4 點；"
        "因此在 40 個 epoch 的預算下，翻轉約占增強代價的五分之二，其餘來自旋轉、縮放與平移（在 15 個 epoch 的研究中幾乎全是翻轉造成的）。"
        "目標是測試準確度"
        "比基準高 15 點，以預定的三個 seed 的平均判定：seed 較少的列標為暫定，因為同一配方的不同 seed 在此可相差達 5 點。原報告自己的最佳結果是在它自己的 50 類資料（不是 Caltech-101）上的 40.8 %，因此不與這些數字比較。"),
}

# Why our verdict may differ from the seed's, per technique (shown where they do).
# The generic reason applies everywhere: the seed judged single runs.
WHY_DIFFERENT = {
    "image-size": ("The seed does not say which sizes it compared. Here a larger input mostly adds "
                   "weights to the dense layer (0.6 M at 32², 3.2 M at 64²) without adding training images, "
                   "so it overfits sooner.",
                   "原報告沒有說明比較了哪些大小。此處較大的輸入主要增加全連接層的權重（32² 為 0.6 M，64² 為 3.2 M），"
                   "訓練影像卻沒有增加，因此更早過擬合。"),
    "class-weights": ("Class weights move errors between classes more than they change the total; "
                      "overall accuracy, which the big classes dominate, can stay flat while the tail "
                      "classes gain (see the per-class view).",
                      "類別權重主要是在類別之間移動錯誤，而非改變總數；由大類主導的整體準確度可能持平，"
                      "而尾端類別卻進步（見各類別的圖）。"),
    "batch-size": ("The seed does not state the sizes it tried. At a fixed epoch budget a smaller batch "
                   "makes more updates, so 'better' can mean 'trained longer'.",
                   "原報告沒有說明試了哪些批次大小。在固定的 epoch 預算下，較小的批次更新次數較多，"
                   "因此「較好」可能只是「訓練得較久」。"),
    "shuffle-buffer": ("The seed's buffers (7,000 and 70,000) were both at least as large as its data, "
                       "i.e. two full shuffles: no change was the only possible outcome. A buffer smaller "
                       "than a class is where the setting matters.",
                       "原報告的緩衝區（7,000 與 70,000）都不小於它的資料量，等於兩次完整打亂，結果只可能不變。"
                       "緩衝區小於一個類別時，這個設定才有影響。"),
    "learning-rate": ("The seed does not say which rate rose; a rate far from the default in either "
                      "direction can help or hurt depending on the epoch budget.",
                      "原報告沒有說明是哪個學習率上升；偏離預設值的學習率是好是壞，取決於 epoch 預算。"),
    "lr-decay": ("With early stopping ending runs after about ten epochs there is little time for a "
                 "decay to act.", "early stopping 約十個 epoch 就結束訓練，學習率衰退幾乎沒有作用的時間。"),
    "activation": ("The seed does not name the activation it switched to.",
                   "原報告沒有說明改用哪個激活函數。"),
    "augmentation": ("The seed's variants flip images, and in many Caltech-101 classes the objects face one "
                     "way in training and test photographs alike: a flip teaches an invariance the test never "
                     "asks for and hides a cue it rewards (the Best combination page measures this with "
                     "mirrored test images). Without the flip the mild variant is within noise of the "
                     "baseline rather than below it. Augmentation also slows learning, so within the same "
                     "early-stopped budget a benefit could show only if the runs lasted longer; the seed's data "
                     "(its own 50 classes) may not share the one-way bias.",
                     "原報告的變體都做左右翻轉，而 Caltech-101 許多類別的物體在訓練與測試照片中都朝向同一邊：翻轉教會網路"
                     "測試從不需要的不變性，也遮掉了測試會獎勵的線索（最佳組合頁以左右鏡像的測試影像量測這一點）。去掉翻轉後，"
                     "溫和變體與基準的差距落在雜訊範圍內，而不再較低。資料增強也會放慢學習，在相同、會提早停止的預算內，"
                     "只有訓練更久才可能看得到好處；原報告自己的 50 類資料也未必有這種單向的偏差。"),
    "architectures": ("The seed ran these networks at 224² with a learning rate of 0.01, class weights "
                      "and learning-rate decay; here they share the baseline's protocol at 48².",
                      "原報告以 224²、學習率 0.01、類別權重與學習率衰退訓練這些網路；此處它們與基準模型使用相同的"
                      "流程與 48² 輸入。"),
}
GENERIC_WHY = ("The seed's verdicts come from one run per variant, judged on validation accuracy, on its "
               "own data at 128² (224² for the architectures). One run cannot separate a change from "
               "seed-to-seed noise: our baseline alone varies by its standard deviation from seed to seed.",
               "原報告的判定來自每個變體一次實驗、以驗證準確度判斷，資料為它自己的資料集、輸入 128²（架構比較為 224²）。"
               "一次實驗無法區分變化與 seed 之間的雜訊：我們的基準模型本身在不同 seed 之間就有其標準差的差異。")
SEED_WORD = {"up overall": "up", "slightly up overall": "up", "unchanged": "unchanged",
             "down overall": "down"}


# The seed's own sizes, for the parameter comparison it made (its 128 x 128
# for the baseline family, 224 x 224 for the other architectures).
SEED_SIZE = {"c50_flower": 224, "c50_digits_advanced": 224, "c50_cats_dogs": 224}


def tr(lang, en, zh):
    return zh if lang == "zh" else en


def params_at(cfg: dict, size: int) -> int:
    from core import model_tables
    return model_tables.params(cfg["model"]["name"], cfg["model"].get("kwargs", {}), size)


def summary_table(cfg: dict, size: int) -> pd.DataFrame:
    from core import model_tables
    return pd.DataFrame(model_tables.table(cfg["model"]["name"], cfg["model"].get("kwargs", {}), size))


def technique_rows(technique: str, root=None, include_app: bool = True) -> list[dict]:
    names = ["c50-baseline", *study.variants_of(technique)]
    exps = {n: study.EXPERIMENTS[n] for n in names}
    return experiment_rows(root, exps, include_app=include_app)


def _delta_cells(c: dict | None) -> tuple:
    """(Δ, se) of a core.verdict.compare result in points, None where absent."""
    if not c:
        return None, None
    return tuple(None if c[k] is None else round(100 * c[k], 2) for k in ("diff", "se"))


def _accuracy_chart(lang: str, done: list[dict], target: float | None = None):
    """Test accuracy bars (mean ± std over seeds) of finished rows, the axis
    fitted to them (and to the goal line, if any)."""
    acc = pd.DataFrame([{
        "experiment": r["experiment"], "title": r["title_zh" if lang == "zh" else "title"],
        "mean": 100 * r["test_acc_mean"], "std": 100 * r["test_acc_std"], "seeds": r["n_done"],
        "train / val": f"{r['n_train']:,} / {r['n_val']:,}", "epochs": r["epochs"]} for r in done])
    domain = charts.fit_domain(float((acc["mean"] - acc["std"]).min()),
                               float((acc["mean"] + acc["std"]).max()), target)
    return charts.accuracy_bars(acc, tr(lang, "test accuracy %", "測試準確度 %"), domain=domain,
                                target=target)


def _curves_chart(lang: str, done: list[dict]):
    return charts.curves_panel(charts.curves_frame(done), {
        "accuracy": tr(lang, "training accuracy", "訓練準確度"),
        "val_accuracy": tr(lang, "validation accuracy", "驗證準確度"),
        "val_loss": tr(lang, "validation loss", "驗證損失"),
        "gap_accuracy": tr(lang, "overfitting: train − val accuracy", "過擬合：訓練減驗證準確度")})


def technique_table(lang: str, technique: str, rows: list[dict]) -> pd.DataFrame:
    from core.report import _v
    base = next((r for r in rows if r["experiment"] == "c50-baseline"), None)
    out = []
    for r in rows:
        cfg = study.EXPERIMENTS[r["declared"]](False)
        c = compare(r, base) if base is not None and r is not base else None
        sv = None
        if r["declared"] != "c50-baseline":
            claim = next((x for x in study.CLAIMS if x["id"] == r["declared"]), None)
            sv = claim["seed_verdict"] if claim else None
        word = None if c is None else c["verdict"]
        diff, se = _delta_cells(c)
        out.append({
            "experiment": r["experiment"],
            tr(lang, "what", "內容"): r["title_zh" if lang == "zh" else "title"],
            tr(lang, "parameters", "參數量"): f"{params_at(cfg, cfg['data']['image_size']):,}",
            tr(lang, "seeds", "seed 數"): r["n_done"],
            tr(lang, "epochs run (mean)", "實際 epoch（平均）"):
                None if r["epochs_run_mean"] is None else round(r["epochs_run_mean"], 1),
            tr(lang, "test acc. %", "測試準確度 %"):
                None if r["test_acc_mean"] is None else f"{100 * r['test_acc_mean']:.2f} ± {100 * r['test_acc_std']:.2f}",
            "Δ (pts)": diff, "± se": se,
            tr(lang, "our verdict", "我們的判定"): None if word is None else _v(lang, word),
            tr(lang, "seed's verdict", "原報告判定"): None if sv is None else sv[lang if lang in sv else "en"],
            "s / epoch": None if r["sec_per_epoch"] is None else round(r["sec_per_epoch"], 1),
        })
    return pd.DataFrame(out)


def technique_blocks(technique: str, lang: str = "en", root=None) -> list:
    from core.report import verdict_rule
    en, zh, page, _ = study.TECHNIQUES[technique]
    rows = technique_rows(technique, root)
    text = TEXT[technique]
    blocks = [("h1", tr(lang, en, zh)), ("md", tr(lang, *text))]
    done = [r for r in rows if r["n_done"]]
    names = " ".join(r["declared"] for r in rows if r["origin"] == "study")
    if not done:
        return blocks + [("md", tr(lang, f"No runs committed yet. Train them with "
                                         f"`python -m experiments run {names} --seeds 3`.",
                                   f"尚無已提交的實驗結果。可用 `python -m experiments run {names} --seeds 3` 訓練。"))]
    blocks += [
        ("h2", tr(lang, "Results", "結果")),
        ("md", tr(lang, "Test accuracy on the 902 held-out images: mean over seeds ± one standard deviation. "
                        "Every variant changes one thing against the baseline (same data, epoch budget and "
                        "early stopping on validation loss).",
                  "902 張保留測試影像上的準確度：各 seed 平均 ± 一個標準差。每個變體相對基準只改一件事（相同資料、"
                  "epoch 預算與以驗證損失為準的 early stopping）。")),
        ("chart", _accuracy_chart(lang, done)),
        ("table", technique_table(lang, technique, rows)),
        ("md", verdict_rule(lang)),
        *_disagreement(lang, technique, rows),
        ("h2", tr(lang, "Training curves", "訓練曲線")),
        ("md", tr(lang, "Mean over seeds with a ± one std band; click a legend entry to isolate a variant, "
                        "scroll to zoom. The right panel is training minus validation accuracy: the "
                        "overfitting view.",
                  "各 seed 平均與 ± 一個標準差的帶狀區；點選圖例可單獨顯示一個變體，滾動可縮放。右圖為訓練減驗證"
                  "準確度：過擬合的程度。")),
        ("row", _curves_chart(lang, done)),
    ]
    if technique in ("small-kernels", "batchnorm", "avg-pooling", "same-padding", "architectures",
                     "image-size"):
        blocks += _model_blocks(lang, technique)
    return blocks


def _disagreement(lang: str, technique: str, rows: list[dict]) -> list:
    """Where a verdict of ours differs from the seed's, the likely reasons."""
    base = next((r for r in rows if r["experiment"] == "c50-baseline"), None)
    if base is None:
        return []
    differ = []
    for r in rows:
        claim = next((c for c in study.CLAIMS if c["id"] == r["experiment"]), None)
        if claim is None or not claim["seed_verdict"]:
            continue
        ours = compare(r, base)["verdict"]
        if ours in ("up", "unchanged", "down") and ours != SEED_WORD.get(claim["seed_verdict"]["en"]):
            differ.append(r["experiment"])
    if not differ:
        return []
    specific = WHY_DIFFERENT.get(technique)
    text = tr(lang, f"**Where we differ from the seed** ({', '.join(differ)}): ",
              f"**與原報告不同之處**（{', '.join(differ)}）：")
    text += tr(lang, *GENERIC_WHY) + (" " + tr(lang, *specific) if specific else "")
    return [("md", text)]


def _model_blocks(lang: str, technique: str) -> list:
    names = ["c50-baseline", *study.variants_of(technique)]
    counts = []
    for n in names:
        cfg = study.EXPERIMENTS[n](False)
        seed_size = SEED_SIZE.get(cfg["model"]["name"], 128)
        counts.append({"experiment": n, "model": cfg["model"]["name"],
                       tr(lang, "input (ours)", "輸入（本報告）"): f"{cfg['data']['image_size']}²",
                       tr(lang, "parameters (ours)", "參數量（本報告）"): f"{params_at(cfg, cfg['data']['image_size']):,}",
                       tr(lang, "input (seed)", "輸入（原報告）"): f"{seed_size}²",
                       tr(lang, "parameters at the seed's size", "原報告大小下的參數量"):
                           f"{params_at(cfg, seed_size):,}"})
    blocks = [("h2", tr(lang, "The models", "模型")),
              ("md", tr(lang, "Generated from the Keras models the runs train. At the seed's own input size "
                              "the counts equal its tables (e.g. 14,778,098 for the baseline at 128 x 128, "
                              "16,809,714 with same padding, 3,014,386 for the small kernels).",
                        "由實際訓練的 Keras 模型產生。在原報告的輸入大小下，參數量與其表格相同（例如基準模型在 "
                        "128 x 128 為 14,778,098，same padding 為 16,809,714，小卷積核為 3,014,386）。")),
              ("table", pd.DataFrame(counts))]
    if technique != "image-size":
        seen = set()
        for n in names:
            cfg = study.EXPERIMENTS[n](False)
            key = (cfg["model"]["name"], str(sorted(cfg["model"].get("kwargs", {}).items())))
            if key in seen:
                continue
            seen.add(key)
            df = summary_table(cfg, cfg["data"]["image_size"])
            blocks += [("h3", f"{n}: {cfg['model']['name']} — {int(df['params'].sum()):,} "
                              f"{tr(lang, 'parameters', '個參數')}"), ("table", df)]
    return blocks


def markdown_verdicts(rows: list[dict]) -> str:
    """The README's verdict table: every variant against the baseline."""
    from core.report import techniques_table
    table = techniques_table("en", rows).drop(columns=["page"])
    return "" if table.empty else _markdown(table)


def _markdown(table: pd.DataFrame) -> str:
    """A pipe table for the README, '–' where a cell is empty."""
    table = table.astype(object).where(table.notna(), "–")
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


PLANNED_SEEDS = 3  # the minimum per variant; the goal is judged on no fewer


def study_time(rows: list[dict]) -> str:
    """What the study has cost so far, from the run records (training plus
    test evaluation, summed over finished runs), against its 4-hour budget.

    Runs often shared the two cores with another training job or the test
    suite, which inflates their measured time. So a second figure prices every
    run at its variant's fastest median epoch among its seeds (the least
    shared one): epochs run x that pace, plus the run's evaluation time."""
    from pathlib import Path

    from core.records import Run
    total, paced, n = 0.0, 0.0, 0
    for r in rows:
        summaries = [Run(Path(p)).summary or {} for p in r["run_paths"]]
        paces = [s["seconds_per_epoch_median"] for s in summaries if s.get("seconds_per_epoch_median")]
        for s in summaries:
            measured = (s.get("train_seconds") or 0) + (s.get("eval_seconds") or 0)
            total += measured
            paced += (min(paces) * s["epochs_run"] + (s.get("eval_seconds") or 0)
                      if paces and s.get("epochs_run") else measured)
            n += 1
    declared = sum(1 for r in rows if r["origin"] == "study") * PLANNED_SEEDS
    return (f"Study time so far: {total / 3600:.2f} h of training and evaluation over {n} finished runs "
            f"(of {declared} planned: every variant x {PLANNED_SEEDS} seeds); {paced / 3600:.2f} h at each variant's "
            f"fastest measured pace (runs often shared the cores with other jobs, which inflates the "
            f"first figure); budget 4 h on 2 CPU cores.")


# Which study variant is the evidence for each ingredient of the best runs.
BEST_INGREDIENTS = (
    ("BatchNormalization", "BatchNormalization", "c50-batchnorm", "c50-best, c50-best-long, c50-best-strong"),
    ("same padding", "same padding", "c50-same-padding", "c50-best, c50-best-long, c50-best-strong"),
    ("LR on plateau", "停滯時降低學習率", "c50-decay-plateau", "c50-best"),
    ("cosine LR decay", "餘弦學習率衰減", "c50-decay-cosine", "c50-best-long, c50-best-strong"),
    ("64 x 64 input", "64 x 64 輸入", "c50-size-64", "c50-best-long, c50-best-strong"),
    ("stacked 3x3 convs with BatchNorm (advanced-digits net)", "多層 3x3 卷積加 BatchNorm（高級數字辨識架構）",
     "c50-arch-digits", "c50-best-long, c50-best-strong"),
    ("mild augmentation (stronger in c50-best-strong)", "溫和數據增強（c50-best-strong 更強）", "c50-aug-mild",
     "c50-best-long, c50-best-strong"),
    ("mild augmentation without the flip", "溫和數據增強但不翻轉", "c50-aug-noflip", "c50-best-long-noflip"),
)
BEST_ROWS = ("c50-baseline", "c50-best", "c50-baseline-long", "c50-best-long-noaug", "c50-best-long-noflip",
             "c50-best-long",
             "c50-best-strong", "c50-best-hires", "c50-best-mix", "c50-best-mix-long",
             "c50-best-mix-xlong")
GOAL = 0.15


def best_summary(lang: str, rows: list[dict], page_hint: bool = True) -> str | None:
    """One line for the Overview (and, without the page pointer, the CLI
    report): the best run so far against the goal. The headline and the goal
    rest on experiments with all PLANNED_SEEDS finished, because a single seed
    can lead by luck (the study's seeds spread up to 5 points); a higher mean
    on fewer seeds is named after it as provisional."""
    by = {r["experiment"]: r for r in rows}
    base = by.get("c50-baseline")
    cands = [by[n] for n in BEST_ROWS[1:] if n in by and by[n]["n_done"] and "baseline" not in n]
    if not base or not base["n_done"] or not cands:
        return None
    full = [r for r in cands if r["n_done"] >= PLANNED_SEEDS]
    best = max(full or cands, key=lambda r: r["test_acc_mean"])
    ahead = max((r for r in cands if r["test_acc_mean"] > best["test_acc_mean"]),
                key=lambda r: r["test_acc_mean"], default=None)

    def pts(r):
        return 100 * (r["test_acc_mean"] - base["test_acc_mean"])

    met = bool(full) and pts(best) >= 100 * GOAL
    line = tr(lang,
              f"**Best combination so far:** `{best['experiment']}` {100 * best['test_acc_mean']:.2f} % "
              f"({best['n_done']} seed(s)) against the baseline's {100 * base['test_acc_mean']:.2f} % "
              f"({base['n_done']}): {pts(best):+.2f} points, goal +15 {'met' if met else 'not met'}"
              + ("" if full else f" (judged on {PLANNED_SEEDS} seeds)") + ".",
              f"**目前最佳組合：** `{best['experiment']}` {100 * best['test_acc_mean']:.2f} %"
              f"（{best['n_done']} 個 seed），基準 {100 * base['test_acc_mean']:.2f} %（{base['n_done']} 個）："
              f"{pts(best):+.2f} 點，+15 點目標{'已達成' if met else '未達成'}"
              + ("" if full else f"（以 {PLANNED_SEEDS} 個 seed 判定）") + "。")
    if ahead:
        line += tr(lang,
                   f" Ahead on fewer seeds, provisional: `{ahead['experiment']}` "
                   f"{100 * ahead['test_acc_mean']:.2f} % ({ahead['n_done']} of {PLANNED_SEEDS}), {pts(ahead):+.2f}.",
                   f"seed 較少、尚屬暫定的領先者：`{ahead['experiment']}` {100 * ahead['test_acc_mean']:.2f} %"
                   f"（{ahead['n_done']}/{PLANNED_SEEDS} 個 seed），{pts(ahead):+.2f} 點。")
    return line + (tr(lang, " Details on the Best combination page.", "詳見「最佳組合」頁。") if page_hint else "")


def ensemble_rows(lang: str, rows: list[dict], root=None) -> list[dict]:
    """Seed ensembles of the best-combination experiments (runs/<exp>/ensemble.json),
    each against the baseline's mean. A record of an older declaration is left
    out; one computed before more seeds finished says so."""
    from core.caltech import ensemble
    by = {r["experiment"]: r for r in rows}
    base = by.get("c50-baseline")
    if not base or not base["n_done"]:
        return []
    out = []
    for name in BEST_ROWS[1:]:
        r, rec = by.get(name), ensemble.read(name, root)
        if not r or not r["n_done"] or not rec:
            continue
        ids = {Path(p).name for p in r["run_paths"]}
        members = [m["run"].split("/", 1)[1] for m in rec["members"]]
        if not set(members) <= ids:
            continue  # computed from runs of another declaration
        single = statistics.fmean(m["test"]["accuracy"] for m in rec["members"])
        cells = {}
        for key, label in (("test", tr(lang, "ensemble %", "集成 %")),
                           ("test_flip", tr(lang, "ensemble + flip %", "集成 + 翻轉 %"))):
            acc = rec[key]["accuracy"]
            diff = 100 * (acc - base["test_acc_mean"])
            cells[label] = f"{100 * acc:.2f} ({diff:+.2f}"
            cells[label] += (tr(lang, ", goal met", ", 達標") if diff >= 100 * GOAL else "") + ")"
        out.append({
            "experiment": name,
            tr(lang, "members", "成員"): f"{len(members)}" + ("" if len(members) == len(ids) else
                                                              tr(lang, f" of {len(ids)} finished",
                                                                 f"（共 {len(ids)} 個完成）")),
            tr(lang, "members' mean %", "成員平均 %"): f"{100 * single:.2f}",
            **cells,
            tr(lang, "computed at", "計算於"): f"{rec.get('created', '')[:10]} "
                                              f"{((rec.get('git') or {}).get('commit') or '')[:7]}"})
    return out


def _ensemble_blocks(lang: str, rows: list[dict], root=None) -> list:
    table = ensemble_rows(lang, rows, root)
    if not table:
        return []
    return [("h3", tr(lang, "Seed ensembles", "多 seed 集成")),
            ("md", tr(lang,
                      "The finished seeds of one experiment, their softmax outputs averaged; \"+ flip\" also "
                      "averages each network's outputs on the mirrored image. An ensemble of N networks costs N "
                      "times the inference, so it is its own row, never part of an experiment's mean. Δ is "
                      "against the baseline's mean over its seeds. `python -m core.caltech ensemble "
                      "<experiment>` recomputes it from the runs' stored test outputs (test_probs.npz).",
                      "同一實驗各 seed 的網路，平均其 softmax 輸出；「+ 翻轉」另外平均每個網路在左右鏡像影像上的輸出。"
                      "N 個網路的集成推論成本是 N 倍，因此單獨成列，不併入實驗的平均。Δ 相對於基準各 seed 的平均。"
                      "`python -m core.caltech ensemble <實驗>` 可由各 run 保存的測試輸出（test_probs.npz）重算。")),
            ("table", pd.DataFrame(table))]


def markdown_ensembles(rows: list[dict], root=None) -> str:
    table = ensemble_rows("en", rows, root)
    if not table:
        return ""
    return ("Seed ensembles (`python -m core.caltech ensemble <experiment>`; Δ vs the baseline's mean):\n\n"
            + _markdown(pd.DataFrame(table)))


def best_blocks(lang: str = "en", root=None) -> list:
    """The best-combination page: what went in and why, against the +15-point goal."""
    from core.report import _v, verdict_rule
    blocks = [("h1", tr(lang, "Best combination", "最佳組合")), ("md", tr(lang, *TEXT["best"]))]
    study_rows = {r["experiment"]: r for r in experiment_rows(root, study.EXPERIMENTS)}
    base = study_rows["c50-baseline"]
    evidence = []
    for en, zh, exp, used in BEST_INGREDIENTS:
        r = study_rows[exp]
        c = compare(r, base) if r["n_done"] and base["n_done"] else None
        diff, se = _delta_cells(c)
        evidence.append({
            tr(lang, "ingredient", "成分"): tr(lang, en, zh), tr(lang, "evidence", "依據"): exp,
            tr(lang, "seeds", "seed 數"): r["n_done"], "Δ (pts)": diff, "± se": se,
            tr(lang, "verdict (15 epochs)", "判定（15 個 epoch）"): None if c is None else _v(lang, c["verdict"]),
            tr(lang, "used in", "用於"): used})
    blocks += [("h2", tr(lang, "Ingredients and their evidence", "成分與依據")),
               ("md", tr(lang, "Each ingredient's own one-change variant against the baseline in the study "
                               "(15-epoch budget).",
                         "每個成分在研究中以「只改一處」的變體與基準比較的結果（15 個 epoch 預算）。")),
               ("table", pd.DataFrame(evidence))]

    rows = [study_rows[n] for n in BEST_ROWS]
    done = [r for r in rows if r["n_done"]]
    names = " ".join(n for n in BEST_ROWS if not study_rows[n]["n_done"])
    blocks.append(("h2", tr(lang, "Results", "結果")))
    if names:
        blocks.append(("md", tr(lang, f"Not trained yet: {names}. `python -m experiments run {names} --seeds 3`.",
                                f"尚未訓練：{names}。`python -m experiments run {names} --seeds 3`。")))
    if not base["n_done"] or len(done) < 2:
        return blocks
    target = 100 * (base["test_acc_mean"] + GOAL)
    table = []
    for r in done:
        c = compare(r, base) if r is not base else None
        low = None if not c or c["se"] is None else c["diff"] - 2 * c["se"]
        diff, se = _delta_cells(c)
        table.append({
            "experiment": r["experiment"], tr(lang, "what", "內容"): r["title_zh" if lang == "zh" else "title"],
            tr(lang, "parameters", "參數量"): None if r["params"] is None else f"{r['params']:,}",
            tr(lang, "seeds", "seed 數"): r["n_done"],
            tr(lang, "epochs run (mean)", "實際 epoch（平均）"): round(r["epochs_run_mean"], 1),
            tr(lang, "test acc. %", "測試準確度 %"):
                f"{100 * r['test_acc_mean']:.2f} ± {100 * r['test_acc_std']:.2f}",
            tr(lang, "Δ vs baseline (pts)", "相對基準 Δ（點）"): diff, "± se": se,
            tr(lang, "≥ +15 points?", "≥ +15 點？"): None if not c or c["diff"] is None else (
                tr(lang, "no", "否") if c["diff"] < GOAL else
                tr(lang, f"provisional ({r['n_done']} of {PLANNED_SEEDS} seeds)",
                   f"暫定（{r['n_done']}/{PLANNED_SEEDS} 個 seed）") if r["n_done"] < PLANNED_SEEDS else
                tr(lang, "yes", "是") + ("" if low is None or low >= GOAL else
                                        tr(lang, " (mean; not at Δ − 2se)", "（平均；Δ − 2se 未達）"))),
            "s / epoch": None if r["sec_per_epoch"] is None else round(r["sec_per_epoch"], 1)})
    blocks += [
        ("md", tr(lang, f"Goal: the baseline's {100 * base['test_acc_mean']:.2f} % + 15 points = "
                        f"**{target:.2f} %** test accuracy (902 held-out images; mean ± std over seeds).",
                  f"目標：基準的 {100 * base['test_acc_mean']:.2f} % 再加 15 點 = **{target:.2f} %** 測試準確度"
                  f"（902 張保留影像；各 seed 平均 ± 標準差）。")),
        ("chart", _accuracy_chart(lang, done, target)),
        ("table", pd.DataFrame(table)),
        ("md", verdict_rule(lang)),
        *_ensemble_blocks(lang, done, root),
        *_head_tail_blocks(lang, done),
        *_mirror_blocks(lang, done),
        ("h2", tr(lang, "Training curves", "訓練曲線")),
        ("row", _curves_chart(lang, done)),
    ]
    # The network of the best row by mean test accuracy (not a fixed name, so
    # the page follows the results).
    best = max((r for r in done if r is not base), key=lambda r: r["test_acc_mean"])["experiment"]
    cfg = study.EXPERIMENTS[best](False)
    df = summary_table(cfg, cfg["data"]["image_size"])
    blocks += [("h2", tr(lang, "The best model", "最佳模型")),
               ("h3", f"{best}: {cfg['model']['name']} — {int(df['params'].sum()):,} "
                      f"{tr(lang, 'parameters', '個參數')}"), ("table", df)]
    return blocks


def _head_tail_blocks(lang: str, rows: list[dict]) -> list:
    """Where a gain comes from: the ten largest classes against the ten smallest."""
    from core.caltech.tools import head_tail_frame
    ht = head_tail_frame({r["experiment"]: r["run_paths"] for r in rows})
    if ht.empty:
        return []
    ht = ht.assign(cell=[f"{100 * a:.1f}" + ("" if pd.isna(sd) else f" ± {100 * sd:.1f}")
                         for a, sd in zip(ht["accuracy"], ht["std"])])
    table = ht.pivot(index="experiment", columns="group", values="cell").reindex(
        [r["experiment"] for r in rows]).dropna(how="all").reset_index()
    table.columns.name = None
    table = table.rename(columns={"head": tr(lang, "10 largest classes %", "最大 10 類 %"),
                                  "tail": tr(lang, "10 smallest classes %", "最小 10 類 %")})
    return [("h3", tr(lang, "Where the gain comes from", "提升來自哪裡")),
            ("md", tr(lang, "Mean test accuracy over the ten classes with the most and the ten with the fewest "
                            "training images (± std over seeds). Overall accuracy is dominated by the large "
                            "classes, so what a model gains on the small ones shows here.",
                      "訓練影像最多的 10 類與最少的 10 類上的平均測試準確度（± 各 seed 的標準差）。整體準確度由大類別"
                      "主導，因此模型在小類別上的進步要在這裡才看得到。")),
            ("table", table)]


def mirror_table(lang: str, rows: list[dict]) -> pd.DataFrame:
    from core.caltech.tools import mirror_frame
    mf = mirror_frame({r["experiment"]: r["run_paths"] for r in rows})

    def pct(col):  # "0.00" rather than "-0.00" where a difference rounds away
        return [f"{round(100 * v, 2) + 0.0:.2f}" for v in mf[col]]
    return pd.DataFrame({
        "experiment": mf["experiment"], tr(lang, "runs", "run 數"): mf["runs"],
        tr(lang, "test images %", "測試影像 %"): pct("original"),
        tr(lang, "mirrored %", "左右鏡像 %"): pct("mirrored"),
        tr(lang, "drop (pts)", "下降（點）"): pct("drop")})


MIRROR_TEXT = (
    "Test accuracy on the held-out images as they are and mirrored left to right (mean over the runs "
    "that stored their test outputs). A network trained with horizontal flips sees both and should not "
    "care; a large drop means the network has learned which way the objects face, which helps only "
    "because Caltech-101's test photographs face the same way as its training ones.",
    "保留測試影像原樣與左右鏡像後的測試準確度（有保存測試輸出的 run 之平均）。以水平翻轉訓練的網路兩者都見過，"
    "應該不受影響；下降很多表示網路學到了物體朝向哪一邊，而這只因為 Caltech-101 的測試照片與訓練照片朝向相同才有幫助。")


def _mirror_blocks(lang: str, rows: list[dict]) -> list:
    table = mirror_table(lang, rows)
    if table.empty:
        return []
    return [("h3", tr(lang, "Which way the objects face", "物體朝向哪一邊")),
            ("md", tr(lang, *MIRROR_TEXT)), ("table", table)]


def markdown_mirror(rows: list[dict]) -> str:
    rows = [r for r in rows if r["experiment"] in BEST_ROWS]
    table = mirror_table("en", rows)
    if table.empty:
        return ""
    return "Mirrored test images (`test_probs.npz` of each run):\n\n" + _markdown(table)


def page_functions() -> list[tuple[str, object]]:
    """(page key, blocks function) for core.report.PAGES: one per technique, then the best combination."""
    return [*((study.TECHNIQUES[t][2], functools.partial(technique_blocks, t)) for t in study.TECHNIQUES),
            ("c50-best", best_blocks)]
