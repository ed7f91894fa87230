package ocsf

import "strings"

// tactics are MITRE ATT&CK's Enterprise tactics: their ids and names, by
// the tag Falco's rules give them (mitre_execution).
var tactics = []struct{ tag, uid, name string }{
	{"mitre_reconnaissance", "TA0043", "Reconnaissance"},
	{"mitre_resource_development", "TA0042", "Resource Development"},
	{"mitre_initial_access", "TA0001", "Initial Access"},
	{"mitre_execution", "TA0002", "Execution"},
	{"mitre_persistence", "TA0003", "Persistence"},
	{"mitre_privilege_escalation", "TA0004", "Privilege Escalation"},
	{"mitre_defense_evasion", "TA0005", "Defense Evasion"},
	{"mitre_credential_access", "TA0006", "Credential Access"},
	{"mitre_discovery", "TA0007", "Discovery"},
	{"mitre_lateral_movement", "TA0008", "Lateral Movement"},
	{"mitre_collection", "TA0009", "Collection"},
	{"mitre_command_and_control", "TA0011", "Command and Control"},
	{"mitre_exfiltration", "TA0010", "Exfiltration"},
	{"mitre_impact", "TA0040", "Impact"},
}

// tactic finds a tactic by its Falco tag (mitre_execution) or its id
// (TA0002).
func tactic(tag string) (Entity, bool) {
	for _, t := range tactics {
		if strings.EqualFold(tag, t.tag) || strings.EqualFold(tag, t.uid) {
			return Entity{Name: t.name, UID: t.uid}, true
		}
	}
	return Entity{}, false
}

// technique reads a technique's tag: T1059, or a sub-technique's,
// T1059.004 (then base is T1059).
func technique(tag string) (base, sub string, ok bool) {
	if len(tag) < 5 || tag[0] != 'T' || !digits(tag[1:5]) {
		return "", "", false
	}
	switch {
	case len(tag) == 5:
		return tag, "", true
	case len(tag) == 9 && tag[5] == '.' && digits(tag[6:]):
		return tag[:5], tag, true
	}
	return "", "", false
}

func digits(s string) bool { return strings.Trim(s, "0123456789") == "" }

// Attacks are the MITRE ATT&CK tactics and techniques of a rule's tags:
// one attack per technique (with its sub-technique, and the rule's first
// tactic), then one per tactic no technique carried. Falco tags a rule
// with its tactics (mitre_execution, or TA0002) and techniques (T1059,
// T1059.004); OCSF relates each technique to one tactic, and a rule does
// not say which of its tactics a technique serves, so the first is used.
func Attacks(tags []string) []Attack {
	var tacs []Entity
	var out []Attack
	for _, tag := range tags {
		if t, ok := tactic(tag); ok && !hasUID(tacs, t.UID) {
			tacs = append(tacs, t)
		}
	}
	used := 0
	for _, tag := range tags {
		base, sub, ok := technique(tag)
		if !ok {
			continue
		}
		at := Attack{Technique: &Entity{UID: base}}
		if sub != "" {
			at.SubTechnique = &Entity{UID: sub}
		}
		if len(tacs) > 0 {
			t := tacs[0]
			at.Tactic, used = &t, 1
		}
		out = append(out, at)
	}
	for _, t := range tacs[used:] {
		t := t
		out = append(out, Attack{Tactic: &t})
	}
	return out
}

func hasUID(es []Entity, uid string) bool {
	for _, e := range es {
		if e.UID == uid {
			return true
		}
	}
	return false
}
