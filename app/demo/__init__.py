"""Demo material: the seed's elements paper as an outline and a first reading played through the app."""
