"""Pure functions from data to what the page shows: figures, grids, tables, words."""
