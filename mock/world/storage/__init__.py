"""Where the world's changes go: the seam between the world and what stores its overlay."""
