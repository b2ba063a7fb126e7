"""The process and the machine it runs on: CPUs, devices, threads, the default dtype, torchrun, sockets, extras."""
