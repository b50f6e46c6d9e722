#if arch(x86_64)
let arch = "amd64"
#else
let arch = "arm64"
#endif
print("hello from linux/\(arch)")
