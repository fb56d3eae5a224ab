"""Sonos Troubleshooter: tells which documented Sonos error a household has, why, and the fix."""
