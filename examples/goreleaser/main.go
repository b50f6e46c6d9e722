package main

import (
	"fmt"
	"runtime"
)

func main() { fmt.Printf("hello from %s/%s\n", runtime.GOOS, runtime.GOARCH) }
