package com.amazonaws.services.lambda.runtime;

/** A handler whose input and output go through JSON, as aws-lambda-java-core declares it. */
public interface RequestHandler<I, O> {
    O handleRequest(I input, Context context);
}
