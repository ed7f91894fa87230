package realhost

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The Falco pod of the EKS scenarios (TestEKS, make bench's eks group):
// its name, namespace, node and container.
const (
	EKSPod         = "falco-8x7kq"
	EKSNamespace   = "falco"
	EKSNode        = "ip-10-0-1-23.eu-west-1.compute.internal"
	EKSContainerID = "3b1f8e6c2d4a5b7c9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"
)

// EKSLogName is the name of the pod's container log under
// /var/log/containers, from which the kubernetes filter reads the pod,
// namespace and container (with Kube_Tag_Prefix).
func EKSLogName() string {
	return fmt.Sprintf("%s_%s_falco-%s.log", EKSPod, EKSNamespace, EKSContainerID)
}

// EKSMetaName is the name of the pod's file in the kubernetes filter's
// kube_meta_preload_cache_dir.
func EKSMetaName() string { return EKSNamespace + "_" + EKSPod + ".meta" }

// EKSPodMeta is the pod as the Kubernetes API describes it, the file the
// kubernetes filter reads from kube_meta_preload_cache_dir.
func EKSPodMeta() string {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": EKSPod, "namespace": EKSNamespace, "uid": "5f0c6f2e-3c1b-4b7e-9d55-0c2b8b1e4a11",
			"labels": map[string]string{"app.kubernetes.io/name": "falco", "app.kubernetes.io/instance": "falco"}},
		"spec": map[string]any{"nodeName": EKSNode,
			"containers": []map[string]any{{"name": "falco", "image": "falcosecurity/falco:0.42.1"}}},
		"status": map[string]any{"containerStatuses": []map[string]any{{"name": "falco", "containerID": "containerd://" + EKSContainerID,
			"image": "falcosecurity/falco:0.42.1", "imageID": "docker.io/falcosecurity/falco@sha256:0123"}}},
	})
	return string(b)
}

// CRILines writes a line as containerd does: "TIME stdout F line", a line
// over 16 KiB split into P parts and a final F.
func CRILines(b *strings.Builder, line string, ts time.Time) {
	const max = 16 * 1024
	t := ts.UTC().Format("2006-01-02T15:04:05.000000000Z")
	for len(line) > max {
		fmt.Fprintf(b, "%s stdout P %s\n", t, line[:max])
		line = line[max:]
	}
	fmt.Fprintf(b, "%s stdout F %s\n", t, line)
}
