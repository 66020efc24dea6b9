"""placeholder"""
METHODS = []
