# tracer snippet pasted into python{} blocks (via @include-free copy); kept here for reference
