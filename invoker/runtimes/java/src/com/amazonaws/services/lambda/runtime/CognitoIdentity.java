package com.amazonaws.services.lambda.runtime;

/** The Amazon Cognito identity of an invocation, if any. */
public interface CognitoIdentity {
    String getIdentityId();

    String getIdentityPoolId();
}
