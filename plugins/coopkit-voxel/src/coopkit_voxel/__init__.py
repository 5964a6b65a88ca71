"""3D voxel nets, procedural shapes, voxel arrays and shaded renders for coopkit."""

__version__ = "0.1.0"
