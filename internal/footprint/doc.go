// Package footprint guards the memory the plugin's packages hold from the
// moment the .so is loaded, before any configuration: every Fluent Bit on
// every node pays it, at rest too. It has tests only.
package footprint
