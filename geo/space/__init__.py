"""Spatial planning: adjacency, merged units (拆墙连片), scattered old buildings, packages and yearly batches.

Pure functions over GeoDataFrames, computed in metres (the data's Gauss–Krüger zone).
"""
