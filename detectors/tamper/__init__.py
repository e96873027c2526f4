"""Camera health analytics: is the picture still worth watching?"""
