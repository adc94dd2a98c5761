"""Test fixtures for the asset pipeline: images made with Pillow and a loopback image server."""
