"""Replaying every topic into a new generation of the views and switching over to it."""
