"""python -m experiments.mnist [--data-dir DIR] download: fetch MNIST into the data directory."""
import sys

from experiments.mnist.loader import main

sys.exit(main())
