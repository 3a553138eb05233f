"""Audit a dataset: cross-fitted probabilities (crossfit), cleanlab label issues (issues),
duplicates, train/test leaks and outliers (duplicates), the whole report cached per dataset and
config (report), a sibling run retrained on a decisions file and its comparison (compare), and
`python -m core audit` (command)."""
