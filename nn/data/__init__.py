"""Data: a mini-batch loader, train/validation/test splits, toy datasets, the 8x8 digits, an IDX reader."""

from .datasets import (consecutive_ones, load_digits, load_idx, load_mnist, make_circles, make_moons, make_spirals,
                       save_idx, xor)
from .loader import DataLoader, train_test_split, train_val_test_split

__all__ = [
    "DataLoader", "train_test_split", "train_val_test_split",
    "make_moons", "make_circles", "make_spirals", "xor", "consecutive_ones", "load_digits",
    "load_idx", "save_idx", "load_mnist",
]
