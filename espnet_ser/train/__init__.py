"""Training-loop additions to ESPnet's Trainer."""
