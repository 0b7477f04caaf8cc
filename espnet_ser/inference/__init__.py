"""Inference: Speech2Emotion, packed models, ONNX export, prediction dirs."""
