"""Console: bucket notification configurations (also edited on the bucket browser page)."""

from django.contrib import admin

from events.models import BucketNotification


@admin.register(BucketNotification)
class BucketNotificationAdmin(admin.ModelAdmin):
    list_display = ["config_id", "bucket", "function", "prefix", "suffix"]
    list_filter = ["bucket"]
