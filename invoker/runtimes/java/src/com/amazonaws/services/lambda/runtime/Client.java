package com.amazonaws.services.lambda.runtime;

/** The mobile client application of a ``ClientContext``. */
public interface Client {
    String getInstallationId();

    String getAppTitle();

    String getAppVersionName();

    String getAppVersionCode();

    String getAppPackageName();
}
