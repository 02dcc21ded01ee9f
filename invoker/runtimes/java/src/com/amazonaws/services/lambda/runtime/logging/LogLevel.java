package com.amazonaws.services.lambda.runtime.logging;

/** Log levels of aws-lambda-java-core's ``LambdaLogger.log(String, LogLevel)``. */
public enum LogLevel {
    UNDEFINED, TRACE, DEBUG, INFO, WARN, ERROR, FATAL;

    public static LogLevel fromString(String logLevel) {
        try {
            return LogLevel.valueOf(logLevel.toUpperCase());
        } catch (Exception e) {
            return UNDEFINED;
        }
    }
}
