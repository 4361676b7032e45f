// Package secrets reads crmsync's credentials from AWS Secrets Manager,
// once, at a Lambda's cold start, and builds the light AWS configuration
// the receivers read them with (EnvConfig). Errors name the secret, never
// its value.
package secrets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Reader is the part of the Secrets Manager client used here
// (*secretsmanager.Client is one).
type Reader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Read returns a secret's SecretString (binary secrets are refused).
func Read(ctx context.Context, r Reader, id string) (string, error) {
	out, err := r.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", id, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("read secret %s: it has no SecretString (binary secrets are not supported)", id)
	}
	return *out.SecretString, nil
}
