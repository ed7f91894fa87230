package falco

import (
	"fmt"
	"strings"
)

// Priority is a Falco rule priority. The zero value is PriorityDebug; larger is
// more severe, so priorities compare with < and >=.
type Priority int

// Falco's eight priorities, least severe first, as in falco_common.h.
const (
	PriorityDebug Priority = iota
	PriorityInformational
	PriorityNotice
	PriorityWarning
	PriorityError
	PriorityCritical
	PriorityAlert
	PriorityEmergency
)

var priorityNames = [...]string{"Debug", "Informational", "Notice", "Warning", "Error", "Critical", "Alert", "Emergency"}

// String returns the priority as Falco prints it, e.g. "Warning".
func (p Priority) String() string {
	if p < PriorityDebug || p > PriorityEmergency {
		return fmt.Sprintf("Priority(%d)", int(p))
	}
	return priorityNames[p]
}

// ParsePriority parses a priority name, ignoring case and surrounding
// space. Falco's rule files also use the short forms "info" and "warn".
func ParsePriority(s string) (Priority, bool) {
	for i, n := range priorityNames { // as Falco prints it: no folding needed
		if s == n {
			return Priority(i), true
		}
	}
	s = strings.TrimSpace(s)
	for i, n := range priorityNames {
		if strings.EqualFold(s, n) {
			return Priority(i), true
		}
	}
	switch strings.ToLower(s) {
	case "info":
		return PriorityInformational, true
	case "warn":
		return PriorityWarning, true
	case "err":
		return PriorityError, true
	case "crit":
		return PriorityCritical, true
	case "emerg":
		return PriorityEmergency, true
	}
	return 0, false
}

// PriorityNames lists the accepted names, for error messages.
func PriorityNames() string { return strings.Join(priorityNames[:], ", ") }
