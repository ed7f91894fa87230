package main

import "fmt"

// printFloor is filled in by floor measurements.
func printFloor() { fmt.Println() }
