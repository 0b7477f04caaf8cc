"""The SER model: task, ESPnet model, frontends, pooling, decoders (the variants), loss, trainer."""
