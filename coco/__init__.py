"""Coco: claims images from booru, downloads them safely and posts their fingerprints."""
