"""partitiond: one OS process per partition vCPU, running 32-bit x86 partition code under Unicorn.

The package also ships the guest SDK (C headers, libprtos, BAIL, linker script) as package data
under ``partitiond/sdk`` and the build driver that turns partition C sources into images.
"""
