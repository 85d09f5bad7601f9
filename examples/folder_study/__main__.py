"""python -m examples.folder_study [--data-dir DIR] make: a small folder of
shapes (circle, square, triangle; 40 images each) to try the study on."""
import argparse
import sys

import numpy as np


def make(folder, n: int = 40, size: int = 32, seed: int = 0) -> int:
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    for shape in ("circle", "square", "triangle"):
        (folder / shape).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img = Image.fromarray(rng.integers(0, 60, (size, size, 3)).astype(np.uint8))
            draw = ImageDraw.Draw(img)
            r = int(rng.integers(6, 12))
            cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
            box = (cx - r, cy - r, cx + r, cy + r)
            colour = tuple(int(v) for v in rng.integers(120, 256, 3))
            if shape == "circle":
                draw.ellipse(box, fill=colour)
            elif shape == "square":
                draw.rectangle(box, fill=colour)
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
            img.save(folder / shape / f"{i:03d}.png")
    return 3 * n


def main(argv=None) -> int:
    from core.datadir import data_dir

    p = argparse.ArgumentParser(prog="python -m examples.folder_study", description=__doc__)
    p.add_argument("--data-dir", help="dataset folder (default: $CNNLAB_DATA_DIR or ~/.cache/cnnlab/data)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("make", help="write <data dir>/shapes/<class>/*.png")
    args = p.parse_args(argv)
    folder = data_dir(args.data_dir) / "shapes"
    print(f"{make(folder)} images in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
