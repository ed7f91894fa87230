package route

import (
	"fmt"

	"github.com/falcocw/falcocw/falcocw/falco"
)

// A Term is one condition of a rule, such as tag=mitre_*; a rule matches
// an alert when all its terms do.
//
// Adding a match term is one Term type here and its entry in termParsers
// (plus the README's table): the rule's matching and "does this rule match
// every alert" (Rule.MatchesAll) follow from Rule.Terms.
type Term interface {
	Match(a *falco.Alert) bool
}

// TermSyntax is the list of match terms, for error messages.
const TermSyntax = "tag=GLOB, rule=GLOB, priority>=NAME, priority=NAME or source=NAME"

// termParsers parses each match key's comma-separated values into its
// Term. "priority>" is priority>=NAME.
var termParsers = map[string]func(values []string) (Term, error){
	"tag":  func(v []string) (Term, error) { return tagTerm(v), nil },
	"tags": func(v []string) (Term, error) { return tagTerm(v), nil },
	"rule": func(v []string) (Term, error) { return ruleTerm(v), nil },
	"source": func(v []string) (Term, error) {
		return sourceTerm(v), nil
	},
	"priority": func(v []string) (Term, error) {
		ps := make(priorityTerm, len(v))
		for i, name := range v {
			p, err := parsePriority(name)
			if err != nil {
				return nil, err
			}
			ps[i] = p
		}
		return ps, nil
	},
	"priority>": func(v []string) (Term, error) {
		if len(v) != 1 {
			return nil, fmt.Errorf("priority>= takes one priority, not %d", len(v))
		}
		p, err := parsePriority(v[0])
		return minPriority(p), err
	},
}

func parsePriority(name string) (falco.Priority, error) {
	p, ok := falco.ParsePriority(name)
	if !ok {
		return 0, fmt.Errorf("unknown priority %q; allowed: %s", name, falco.PriorityNames())
	}
	return p, nil
}

// tagTerm holds when one of the alert's tags matches one of the globs.
type tagTerm []string

func (t tagTerm) Match(a *falco.Alert) bool {
	for _, tag := range a.Tags {
		if anyGlob(t, tag) {
			return true
		}
	}
	return false
}

// ruleTerm holds when the rule name matches one of the globs.
type ruleTerm []string

func (t ruleTerm) Match(a *falco.Alert) bool { return anyGlob(t, a.Rule) }

// sourceTerm holds when the event source matches one of the globs.
type sourceTerm []string

func (t sourceTerm) Match(a *falco.Alert) bool { return anyGlob(t, a.Source) }

// priorityTerm holds for one of these priorities.
type priorityTerm []falco.Priority

func (t priorityTerm) Match(a *falco.Alert) bool {
	for _, p := range t {
		if p == a.Priority {
			return true
		}
	}
	return false
}

// minPriority holds for this priority and above (priority>=NAME, and the
// min_priority option).
type minPriority falco.Priority

func (t minPriority) Match(a *falco.Alert) bool { return a.Priority >= falco.Priority(t) }

func anyGlob(globs []string, s string) bool {
	for _, g := range globs {
		if Glob(g, s) {
			return true
		}
	}
	return false
}
