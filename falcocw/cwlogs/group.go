package cwlogs

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// GroupOptions are what falcocw sets on the log groups it creates
// (auto_create_group): the log class (log_group_class), the KMS key that
// encrypts them (log_group_kms_key_id) and tags (log_group_tags). None can
// be changed by CreateLogGroup on a group that exists; the log class
// cannot be changed at all once a group is created.
type GroupOptions struct {
	Class    string // "" (CloudWatch's default, STANDARD), STANDARD or INFREQUENT_ACCESS
	KMSKeyID string // a KMS key ARN
	Tags     map[string]string
}

// Classes are the log classes a group may be created with.
var Classes = []string{"STANDARD", "INFREQUENT_ACCESS"}

// ParseClass validates a log_group_class (any case).
func ParseClass(s string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for _, c := range Classes {
		if u == c {
			return c, nil
		}
	}
	return "", fmt.Errorf("want %s", strings.Join(Classes, " or "))
}

// ParseKMSKey validates a log_group_kms_key_id: CreateLogGroup takes a
// key ARN, not a key ID or alias.
func ParseKMSKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "arn:") || !strings.Contains(s, ":kms:") || !strings.Contains(s, ":key/") || strings.Count(s, ":") != 5 {
		return "", fmt.Errorf("want the ARN of a symmetric KMS key, e.g. arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (its key policy must allow logs.REGION.amazonaws.com)")
	}
	return s, nil
}

// ParseTags reads log_group_tags: key=value pairs, comma-separated, as
// AWS's Go plugin reads new_log_group_tags. CloudWatch allows 50 tags,
// keys of 1 to 128 characters not starting with aws:, values of up to 256.
func ParseTags(s string) (map[string]string, error) {
	tags := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "":
			return nil, fmt.Errorf("%q: want key=value pairs, comma-separated, e.g. team=security,env=prod", pair)
		case len(k) > 128 || len(v) > 256:
			return nil, fmt.Errorf("%q: tag keys are at most 128 characters, values 256", pair)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, fmt.Errorf("%q: tag keys starting with aws: are AWS's own", pair)
		}
		if _, dup := tags[k]; dup {
			return nil, fmt.Errorf("tag %q is given twice", k)
		}
		tags[k] = v
	}
	if len(tags) > 50 {
		return nil, fmt.Errorf("%d tags: CloudWatch allows 50 per log group", len(tags))
	}
	return tags, nil
}

// input is the CreateLogGroup request for group.
func (g GroupOptions) input(group string) *cloudwatchlogs.CreateLogGroupInput {
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}
	if g.Class != "" {
		in.LogGroupClass = types.LogGroupClass(g.Class)
	}
	if g.KMSKeyID != "" {
		in.KmsKeyId = aws.String(g.KMSKeyID)
	}
	if len(g.Tags) > 0 {
		in.Tags = g.Tags
	}
	return in
}
