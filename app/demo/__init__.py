"""Demo material: the seed's elements paper as an outline, and a first reading of it."""
