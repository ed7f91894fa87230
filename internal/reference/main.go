// Command reference does falcocw's job for the benchmark the
// straightforward way, as AWS's Go cloudwatch plugin is written:
// fluent-bit-go's decoder (a generic map per record), encoding/json to
// read Falco's line and to write the event, the SDK serialising
// PutLogEvents. make bench builds it into a .so and runs it beside
// falcocw on the same chunks through the same host, so that the ratio of
// the two holds on a noisy machine. It is not shipped, and it does less
// than falcocw (no routing, no context object, no retries of its own).
//
// Properties: endpoint, log_group_name; the stream is the alert's hostname.
package main

import (
	"C"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/fluent/fluent-bit-go/output"
)

// CloudWatch's PutLogEvents limits.
const (
	maxEvents   = 10000
	maxBytes    = 1048576
	perEventLen = 26
)

type instance struct {
	client *cloudwatchlogs.Client
	group  string
}

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	return output.FLBPluginRegister(def, "reference", "falcocw's job, the straightforward way (benchmark only)")
}

//export FLBPluginInit
func FLBPluginInit(p unsafe.Pointer) int {
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "reference:", err)
		return output.FLB_ERROR
	}
	endpoint := output.FLBPluginConfigKey(p, "endpoint")
	in := &instance{group: output.FLBPluginConfigKey(p, "log_group_name"),
		client: cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		})}
	output.FLBPluginSetContext(p, in)
	return output.FLB_OK
}

// str reads a record value as a string: fluent-bit-go decodes MessagePack
// strings as []byte.
func str(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case string:
		return v
	}
	return ""
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) int {
	in := output.FLBPluginGetContext(ctx).(*instance)
	dec := output.NewDecoder(data, int(length))
	byStream := map[string][]types.InputLogEvent{}
	for {
		ret, ts, record := output.GetRecord(dec)
		if ret != 0 {
			break
		}
		var alert map[string]any
		if json.Unmarshal([]byte(str(record["log"])), &alert) != nil {
			continue
		}
		rule, _ := alert["rule"].(string)
		priority, _ := alert["priority"].(string)
		if rule == "" || priority == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(alert["time"]))
		if err != nil {
			if ft, ok := ts.(output.FLBTime); ok {
				t = ft.Time
			} else {
				t = time.Now()
			}
		}
		msg, err := json.Marshal(alert)
		if err != nil {
			continue
		}
		stream, _ := alert["hostname"].(string)
		byStream[stream] = append(byStream[stream], types.InputLogEvent{Message: aws.String(string(msg)), Timestamp: aws.Int64(t.UnixMilli())})
	}
	for stream, events := range byStream {
		sort.SliceStable(events, func(i, j int) bool { return *events[i].Timestamp < *events[j].Timestamp })
		for len(events) > 0 {
			n, size := 0, 0
			for n < len(events) && n < maxEvents && size+len(*events[n].Message)+perEventLen <= maxBytes {
				size += len(*events[n].Message) + perEventLen
				n++
			}
			_, err := in.client.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: aws.String(in.group), LogStreamName: aws.String(stream), LogEvents: events[:n]})
			if err != nil {
				fmt.Fprintln(os.Stderr, "reference:", err)
				return output.FLB_RETRY
			}
			events = events[n:]
		}
	}
	return output.FLB_OK
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) int { return output.FLB_OK }

//export FLBPluginExit
func FLBPluginExit() int { return output.FLB_OK }

func main() {}
