"""Pretrained parts shipped in installed wheels (no downloads): the ImageNet MobileNetV2 feature extractor.

Shared by the trajectory model's image encoder, the video model's depth encoder and the KID-MobileNetV2 metric,
so it sits below ``trajectory`` and ``video`` in the layer map.
"""
