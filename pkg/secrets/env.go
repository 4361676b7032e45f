package secrets

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// EnvConfig returns the AWS configuration of a Lambda function from the
// variables Lambda sets: AWS_REGION and the execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), plus
// AWS_ENDPOINT_URL when set (a local emulator). It is what
// config.LoadDefaultConfig resolves in Lambda, without reading shared
// config files and without linking the SDK's SSO, STS and sign-in
// credential providers, whose package initialisation alone was a third
// of a receiver's cold start beyond a hello-world function. Other SDK
// variables (AWS_PROFILE, AWS_CA_BUNDLE, AWS_MAX_ATTEMPTS, …) are not
// read: Lambda sets none of them, and AWS_CA_BUNDLE, where a shell has it,
// costs a parse of the whole bundle. The receivers use it; functions that
// need more of the SDK's configuration use config.LoadDefaultConfig.
// Errors name the missing variables.
func EnvConfig(getenv func(string) string) (aws.Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var missing []string
	for _, k := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if get(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return aws.Config{}, fmt.Errorf("aws config: %s not set (Lambda sets them; set them to run elsewhere)", strings.Join(missing, ", "))
	}
	cfg := aws.Config{
		Region: get("AWS_REGION"),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"), get("AWS_SESSION_TOKEN"))),
	}
	if e := get("AWS_ENDPOINT_URL"); e != "" {
		if !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
			return aws.Config{}, errors.New("aws config: AWS_ENDPOINT_URL is not an http(s) URL")
		}
		cfg.BaseEndpoint = aws.String(e)
	}
	return cfg, nil
}
