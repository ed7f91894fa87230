// Package ocsf writes a Falco alert as an OCSF 1.1.0 Detection Finding
// (class 2004), the record Amazon Security Lake reads from a custom source.
//
// The Finding type is both the record's JSON (encoding/json tags) and its
// Parquet schema (parquet tags): nested objects are groups, arrays are
// LISTs, absent values are nulls, so that Athena, the Glue crawler and
// other Parquet readers find the OCSF attribute names where the schema puts
// them. Which attributes are there, and why, is in NewFinding.
package ocsf

// The schema's version and the class's numbers, from the OCSF 1.1.0
// release: the Findings category (2), its Detection Finding class (4,
// uid 2004), the Create activity (1).
const (
	Version      = "1.1.0"
	CategoryUID  = 2
	ClassUID     = 2004
	ActivityID   = 1
	TypeUID      = ClassUID*100 + ActivityID
	categoryName = "Findings"
	className    = "Detection Finding"
	activityName = "Create"
	typeName     = className + ": " + activityName
	statusNew    = 1
)

// Finding is one Detection Finding. The attributes the schema requires of
// the class (activity_id, category_uid, class_uid, type_uid, time,
// severity_id, metadata, finding_info, and cloud with the cloud profile)
// are always set; the others when the alert says something of them.
type Finding struct {
	ActivityID   int32  `json:"activity_id" parquet:"activity_id"`
	ActivityName string `json:"activity_name" parquet:"activity_name"`
	CategoryUID  int32  `json:"category_uid" parquet:"category_uid"`
	CategoryName string `json:"category_name" parquet:"category_name"`
	ClassUID     int32  `json:"class_uid" parquet:"class_uid"`
	ClassName    string `json:"class_name" parquet:"class_name"`
	TypeUID      int64  `json:"type_uid" parquet:"type_uid"`
	TypeName     string `json:"type_name" parquet:"type_name"`
	// Time is the alert's time in milliseconds since the epoch (OCSF's
	// timestamp_t).
	Time        int64       `json:"time" parquet:"time"`
	SeverityID  int32       `json:"severity_id" parquet:"severity_id"`
	Severity    string      `json:"severity" parquet:"severity"`
	StatusID    int32       `json:"status_id" parquet:"status_id"`
	Status      string      `json:"status" parquet:"status"`
	Message     string      `json:"message,omitempty" parquet:"message,optional"`
	Metadata    Metadata    `json:"metadata" parquet:"metadata"`
	FindingInfo FindingInfo `json:"finding_info" parquet:"finding_info"`
	Cloud       Cloud       `json:"cloud" parquet:"cloud"`
	Device      *Device     `json:"device,omitempty" parquet:"device,optional"`
	Resources   []Resource  `json:"resources,omitempty" parquet:"resources,optional,list"`
	// Unmapped holds what OCSF has no attribute for: Falco's output
	// fields (proc.cmdline, ...) as text, and falco.priority,
	// falco.source, falco.tags, falco.uuid.
	Unmapped map[string]string `json:"unmapped,omitempty" parquet:"unmapped,optional"`
	// RawData is the event as falcocw delivers it to the other
	// destinations: the alert's JSON with the metadata that came with it.
	RawData string `json:"raw_data,omitempty" parquet:"raw_data,optional"`
}

// Metadata is the event's metadata object.
type Metadata struct {
	Version string  `json:"version" parquet:"version"`
	Product Product `json:"product" parquet:"product"`
	// Profiles are the OCSF profiles whose attributes the finding has:
	// cloud always, host with a device, container with a container.
	Profiles []string `json:"profiles" parquet:"profiles,list"`
	// UID is the alert's stable id, as finding_info.uid.
	UID string `json:"uid" parquet:"uid"`
	// Labels are the Falco rule's tags.
	Labels []string `json:"labels,omitempty" parquet:"labels,optional,list"`
	// LogName is the Falco event source (syscall, k8s_audit, ...);
	// LogProvider is falcocw.
	LogName      string `json:"log_name,omitempty" parquet:"log_name,optional"`
	LogProvider  string `json:"log_provider" parquet:"log_provider"`
	OriginalTime string `json:"original_time,omitempty" parquet:"original_time,optional"`
	// TenantUID is the account ID the objects are written for.
	TenantUID string `json:"tenant_uid,omitempty" parquet:"tenant_uid,optional"`
}

// Product is the product that made the finding: Falco.
type Product struct {
	Name       string `json:"name" parquet:"name"`
	VendorName string `json:"vendor_name" parquet:"vendor_name"`
	URLString  string `json:"url_string" parquet:"url_string"`
}

// FindingInfo is the finding_info object: what was found.
type FindingInfo struct {
	UID         string   `json:"uid" parquet:"uid"`
	Title       string   `json:"title" parquet:"title"`
	Desc        string   `json:"desc,omitempty" parquet:"desc,optional"`
	CreatedTime int64    `json:"created_time" parquet:"created_time"`
	Analytic    Analytic `json:"analytic" parquet:"analytic"`
	Attacks     []Attack `json:"attacks,omitempty" parquet:"attacks,optional,list"`
	DataSources []string `json:"data_sources,omitempty" parquet:"data_sources,optional,list"`
	Types       []string `json:"types,omitempty" parquet:"types,optional,list"`
}

// Analytic is the Falco rule that fired.
type Analytic struct {
	Name   string `json:"name" parquet:"name"`
	TypeID int32  `json:"type_id" parquet:"type_id"`
	Type   string `json:"type" parquet:"type"`
}

// Attack is one MITRE ATT&CK tactic, technique or sub-technique the rule
// is tagged with.
type Attack struct {
	Tactic       *Entity `json:"tactic,omitempty" parquet:"tactic,optional"`
	Technique    *Entity `json:"technique,omitempty" parquet:"technique,optional"`
	SubTechnique *Entity `json:"sub_technique,omitempty" parquet:"sub_technique,optional"`
}

// Entity is an object known by a name and a uid (a tactic, a technique).
type Entity struct {
	Name string `json:"name,omitempty" parquet:"name,optional"`
	UID  string `json:"uid" parquet:"uid"`
}

// Cloud says where the finding was made: AWS, the instance's region and
// the account.
type Cloud struct {
	Provider string   `json:"provider" parquet:"provider"`
	Region   string   `json:"region,omitempty" parquet:"region,optional"`
	Account  *Account `json:"account,omitempty" parquet:"account,optional"`
}

// Account is an AWS account.
type Account struct {
	UID    string `json:"uid" parquet:"uid"`
	TypeID int32  `json:"type_id" parquet:"type_id"`
	Type   string `json:"type" parquet:"type"`
}

// Device is the host Falco ran on, and the container the event happened
// in.
type Device struct {
	Hostname    string     `json:"hostname,omitempty" parquet:"hostname,optional"`
	Name        string     `json:"name,omitempty" parquet:"name,optional"`
	InstanceUID string     `json:"instance_uid,omitempty" parquet:"instance_uid,optional"`
	Region      string     `json:"region,omitempty" parquet:"region,optional"`
	TypeID      int32      `json:"type_id" parquet:"type_id"`
	Type        string     `json:"type" parquet:"type"`
	Container   *Container `json:"container,omitempty" parquet:"container,optional"`
}

// Container is the container of the event, as Falco's fields name it.
type Container struct {
	Name         string `json:"name,omitempty" parquet:"name,optional"`
	UID          string `json:"uid,omitempty" parquet:"uid,optional"`
	Image        *Image `json:"image,omitempty" parquet:"image,optional"`
	Orchestrator string `json:"orchestrator,omitempty" parquet:"orchestrator,optional"`
}

// Image is a container image.
type Image struct {
	Name string `json:"name,omitempty" parquet:"name,optional"`
	Tag  string `json:"tag,omitempty" parquet:"tag,optional"`
	UID  string `json:"uid" parquet:"uid"`
}

// Resource is one resource the finding concerns: the container, the
// Kubernetes pod, the ECS task.
type Resource struct {
	Type      string `json:"type" parquet:"type"`
	UID       string `json:"uid,omitempty" parquet:"uid,optional"`
	Name      string `json:"name,omitempty" parquet:"name,optional"`
	Namespace string `json:"namespace,omitempty" parquet:"namespace,optional"`
	Region    string `json:"region,omitempty" parquet:"region,optional"`
}
