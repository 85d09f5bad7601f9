"""A worker process of read_many: prepares captchas for the model, one chunk
at a time, for a parent reading them (experiments/captcha/recognizer.py).

Started as `python -m experiments.captcha.prepare_worker`, not through
multiprocessing: a spawned multiprocessing child first re-runs the parent's
`__main__`, and inside Streamlit (or an AppTest) that is the page script,
which a child cannot run (measured: the pool broke on the first chunk under
the test suite). This process imports numpy, Pillow and the reader's own
modules (recognizer.py, preprocess.py): no model, no TensorFlow.

Protocol, pickles on stdin/stdout (parent and child are this project, on one
machine): first the job (preprocess name, its options, trim_borders), then
any number of source lists, each answered by the list of prepared inputs
(float32 arrays, or the CaptchaImageError saying why not) in their order.
End of stdin ends the process.
"""
from __future__ import annotations

import os
import pickle
import sys


def main() -> int:
    from experiments.captcha.recognizer import _prepare_chunk

    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")  # the answers' own channel:
    os.dup2(2, 1)                        # anything printed goes to stderr, not into a pickle
    try:
        job = pickle.load(stdin)
    except EOFError:
        return 0
    while True:
        try:
            sources = pickle.load(stdin)
        except EOFError:
            return 0
        try:
            pickle.dump(_prepare_chunk(sources, job), stdout, protocol=pickle.HIGHEST_PROTOCOL)
            stdout.flush()
        except BrokenPipeError:  # the reader is gone: nothing to answer
            return 0


if __name__ == "__main__":
    sys.exit(main())
