"""Spatio-temporal nets, video IO and procedural dynamic textures for coopkit."""

__version__ = "0.1.0"
