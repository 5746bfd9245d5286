"""Parsa: claims links from booru and resolves each into direct image URLs."""
