"""The page: one module per card, its layout and its callbacks side by side."""
