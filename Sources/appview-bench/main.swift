print("appview-bench: not yet")
