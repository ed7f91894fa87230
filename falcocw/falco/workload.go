package falco

import "sort"

// Workload is where the event happened, as Falco's output fields say:
// k8s.ns.name, k8s.pod.name, container.name, container.id and
// container.image.repository ("" when absent).
type Workload struct {
	Namespace, Pod, Container, ContainerID, Image string
}

// Workload returns where the event happened.
func (a *Alert) Workload() Workload {
	var v [5]string
	for i, f := range workloadFields {
		if a.hasWorkload {
			v[i] = a.workload[i]
		} else if x, ok := a.OutputFields[f[1]]; ok {
			v[i] = stringOf(x)
		}
	}
	return Workload{Namespace: v[0], Pod: v[1], Container: v[2], ContainerID: v[3], Image: v[4]}
}

// FieldStrings returns the output fields as key and text pairs, by key:
// strings as they are, numbers with all their digits, null as "", other
// values as JSON.
func (a *Alert) FieldStrings() [][2]string {
	m := a.Fields()
	out := make([][2]string, 0, len(m))
	for k, v := range m {
		out = append(out, [2]string{k, stringOf(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
