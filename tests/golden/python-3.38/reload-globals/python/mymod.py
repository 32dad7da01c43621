# module-level state: survives reloads (module is imported only once)
counter = 0
imported_at_pid = __import__("os").getpid()
def bump():
    global counter
    counter += 1
    return counter
