package com.amazonaws.services.lambda.runtime;

import java.util.Map;

/** The mobile client's context of an invocation (``Lambda-Runtime-Client-Context``). */
public interface ClientContext {
    Client getClient();

    Map<String, String> getCustom();

    Map<String, String> getEnvironment();
}
