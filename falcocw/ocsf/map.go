package ocsf

import (
	"strings"
	"time"

	"github.com/falcocw/falcocw/falcocw/falco"
)

// Context is what a finding needs beyond the alert: where falcocw runs
// and the account the objects are written for.
type Context struct {
	Region, AccountID string
}

// Severities are OCSF's severity_id captions, by id.
var Severities = map[int32]string{1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}

// SeverityID maps a Falco priority as Security Hub's default labels do:
// Emergency, Alert, Critical: 5 (Critical); Error: 4 (High); Warning: 3
// (Medium); Notice: 2 (Low); Informational, Debug: 1 (Informational).
func SeverityID(p falco.Priority) int32 {
	switch {
	case p >= falco.PriorityCritical:
		return 5
	case p == falco.PriorityError:
		return 4
	case p == falco.PriorityWarning:
		return 3
	case p == falco.PriorityNotice:
		return 2
	}
	return 1
}

// NewFinding is the Detection Finding of an alert. event is the alert as
// falcocw delivers it elsewhere (raw_data). An alert the Falco rule tags
// with MITRE ATT&CK tactics and techniques carries them as
// finding_info.attacks; the host, the container, the Kubernetes pod and
// the ECS task are the device and the resources; output_fields and what
// else OCSF has no place for are in unmapped.
func NewFinding(a *falco.Alert, event []byte, c Context) Finding {
	ms := a.Time.UnixMilli()
	sev := SeverityID(a.Priority)
	id := a.ID()
	f := Finding{
		ActivityID: ActivityID, ActivityName: activityName,
		CategoryUID: CategoryUID, CategoryName: categoryName,
		ClassUID: ClassUID, ClassName: className,
		TypeUID: TypeUID, TypeName: typeName,
		Time: ms, SeverityID: sev, Severity: Severities[sev],
		StatusID: statusNew, Status: "New",
		Message: a.Output,
		Metadata: Metadata{Version: Version, UID: id, LogProvider: "falcocw", LogName: a.Source,
			Product:      Product{Name: "Falco", VendorName: "Falco", URLString: "https://falco.org"},
			OriginalTime: a.Time.UTC().Format(time.RFC3339Nano),
			Labels:       append([]string(nil), a.Tags...), Profiles: []string{"cloud"}},
		FindingInfo: FindingInfo{UID: id, Title: a.Rule, Desc: a.Output, CreatedTime: ms,
			Analytic: Analytic{Name: a.Rule, TypeID: 1, Type: "Rule"},
			Attacks:  Attacks(a.Tags)},
		Cloud:    Cloud{Provider: "AWS", Region: c.Region},
		Unmapped: unmapped(a),
		RawData:  string(event),
	}
	if a.Source != "" {
		f.FindingInfo.DataSources = []string{a.Source}
	}
	f.SetAccount(c.AccountID)
	f.Device, f.Resources = where(a, c.Region)
	if f.Device != nil {
		f.Metadata.Profiles = append(f.Metadata.Profiles, "host")
		if f.Device.Container != nil {
			f.Metadata.Profiles = append(f.Metadata.Profiles, "container")
		}
	}
	return f
}

// unmapped is what OCSF has no attribute for: the output fields as text,
// and Falco's priority, source, tags and uuid.
func unmapped(a *falco.Alert) map[string]string {
	pairs := a.FieldStrings()
	m := make(map[string]string, len(pairs)+4)
	for _, kv := range pairs {
		m[kv[0]] = kv[1]
	}
	m["falco.priority"] = a.Priority.String()
	if a.Source != "" {
		m["falco.source"] = a.Source
	}
	if len(a.Tags) > 0 {
		m["falco.tags"] = strings.Join(a.Tags, ",")
	}
	if a.UUID != "" {
		m["falco.uuid"] = a.UUID
	}
	return m
}

// where is the device (the host, and the container of the event) and
// the resources (container, Kubernetes pod, ECS task) the alert names.
func where(a *falco.Alert, region string) (*Device, []Resource) {
	wl := a.Workload()
	var res []Resource
	var ctr *Container
	isHost := func(s string) bool { return s == "" || s == "host" }
	if !isHost(wl.ContainerID) || !isHost(wl.Container) {
		ctr = &Container{Name: wl.Container, UID: wl.ContainerID}
		if isHost(wl.Container) {
			ctr.Name = ""
		}
		if isHost(wl.ContainerID) {
			ctr.UID = ""
		}
		if wl.Image != "" {
			img := &Image{Name: wl.Image, UID: wl.Image}
			if tag, ok := a.Field("output_fields.container.image.tag"); ok {
				img.Tag = tag
			}
			if id, ok := a.Field("output_fields.container.image.id"); ok && id != "" {
				img.UID = id
			}
			ctr.Image = img
		}
		if wl.Pod != "" {
			ctr.Orchestrator = "Kubernetes"
		} else if a.ECS["ecs_task_arn"] != "" {
			ctr.Orchestrator = "Amazon ECS"
		}
		res = append(res, Resource{Type: "Container", UID: ctr.UID, Name: ctr.Name, Region: region})
		if res[len(res)-1].UID == "" && res[len(res)-1].Name == "" {
			res = res[:len(res)-1]
		}
	}
	if wl.Pod != "" {
		cluster := a.Cluster
		res = append(res, Resource{Type: "Kubernetes Pod", Name: wl.Pod, Namespace: wl.Namespace,
			UID: strings.Trim(cluster+"/"+wl.Namespace+"/"+wl.Pod, "/"), Region: region})
	}
	if arn := a.ECS["ecs_task_arn"]; arn != "" {
		res = append(res, Resource{Type: "AwsEcsTask", UID: arn, Name: a.ECS["ecs_task_definition"], Region: region})
	}
	host := a.Hostname
	if host == "unknown" {
		host = ""
	}
	inst := a.ECS["ec2_instance_id"]
	if host == "" && inst == "" && ctr == nil {
		return nil, res
	}
	d := &Device{Hostname: host, InstanceUID: inst, Region: region, TypeID: 1, Type: "Server", Container: ctr}
	if host == "" && inst == "" {
		d.Name = "unknown" // a device needs a name, a uid, a hostname or an instance: the container's host is not known
	}
	return d, res
}

// SetAccount sets the account the finding is written for (cloud.account,
// metadata.tenant_uid), unless it has one; "" does nothing.
func (f *Finding) SetAccount(id string) {
	if id == "" || f.Cloud.Account != nil {
		return
	}
	f.Cloud.Account = &Account{UID: id, TypeID: 10, Type: "AWS Account"}
	f.Metadata.TenantUID = id
}
