package jsonstr

import (
	"encoding/base64"
	"strings"
	"testing"
)

// event is a delivered Falco event, the text CloudWatch bodies escape
// most: JSON, a quote every eight bytes or so.
const event = `{"time":"2026-11-22T09:00:00.594315767Z","rule":"Launch Privileged Container","priority":"Informational","source":"syscall","hostname":"ip-10-0-1-23.eu-west-1.compute.internal","tags":["PCI_DSS_10.2.5","T1610","cis","container","maturity_incubating","mitre_execution"],"output":"09:00:00.594315104: Informational Privileged container started | evt_type=ptrace user=root user_uid=-1 user_loginuid=0 process=sh proc_exepath=/bin/sh parent=containerd-shim command=bash -c cat /etc/shadow terminal=34816","output_fields":{"evt.type":"ptrace","user.name":"root","user.uid":-1,"user.loginuid":0,"proc.name":"sh","proc.exepath":"/bin/sh","proc.pname":"containerd-shim","proc.cmdline":"bash -c cat /etc/shadow","proc.tty":34816,"evt.time":1795338000594315616,"container.id":"1d871f7296ab","k8s.ns.name":"payments","k8s.pod.name":"web-7c9d8f5b4-x2kq9"},"context":{"cluster":"prod","workload":{"namespace":"payments","pod":"web-7c9d8f5b4-x2kq9","container_id":"1d871f7296ab"}}}`

func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"event-json", event},
		// The same with an accented name near its start (a pod, a file):
		// the blocks resume past it.
		{"event-json-accent", strings.Replace(event, "ip-10", "ïp-10", 1)},
		{"output-text", "09:00:00.594315104: Informational Privileged container started | evt_type=ptrace user=root user_uid=-1 user_loginuid=0 process=sh proc_exepath=/bin/sh parent=containerd-shim command=bash -c cat /etc/shadow terminal=34816"},
		{"non-ascii", strings.Repeat("é→ü ", 50)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.s)))
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf = Append(buf[:0], bc.s)
			}
		})
	}
}

// BenchmarkAppendBase64 encodes an event as a Firehose record's Data
// (against encoding/base64, which it replaced).
func BenchmarkAppendBase64(b *testing.B) {
	data := []byte(event)
	b.Run("AppendBase64", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf = AppendBase64(buf[:0], data)
		}
	})
	b.Run("encoding-base64", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf = base64.StdEncoding.AppendEncode(buf[:0], data)
		}
	})
}
