//! The one schema both backends share; see migrations/sqlite and migrations/postgres.

diesel::table! {
    admins (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        state -> Text,
        expires_at -> Timestamp,
        admin_id -> Nullable<Integer>,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    services (id) {
        id -> Integer,
        name -> Text,
        label -> Text,
        description -> Text,
        kind -> Text,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    roles (id) {
        id -> Integer,
        name -> Text,
        description -> Text,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by_id -> Nullable<Integer>,
        updated_by_id -> Nullable<Integer>,
        rate_limits -> Nullable<Text>,
    }
}

diesel::table! {
    apps (id) {
        id -> Integer,
        name -> Text,
        description -> Text,
        is_active -> Bool,
        location -> Integer,
        storage_service_id -> Nullable<Integer>,
        storage_container -> Nullable<Text>,
        path -> Nullable<Text>,
        url -> Nullable<Text>,
        role_id -> Nullable<Integer>,
        key_hash -> Text,
        key_prefix -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by_id -> Nullable<Integer>,
        updated_by_id -> Nullable<Integer>,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        previous_key_hash -> Nullable<Text>,
        previous_key_expires_at -> Nullable<Timestamp>,
        allowed_ips -> Nullable<Text>,
        rate_limits -> Nullable<Text>,
        quota_total -> Nullable<BigInt>,
        quota_refill -> Nullable<Text>,
        legacy_key -> Bool,
    }
}

diesel::table! {
    role_rules (id) {
        id -> Integer,
        role_id -> Integer,
        service_id -> Nullable<Integer>,
        component -> Text,
        verbs -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    change_counter (id) {
        id -> Integer,
        version -> BigInt,
        pruned_through -> BigInt,
    }
}

diesel::table! {
    verify_changes (id) {
        id -> BigInt,
        kind -> Text,
        object_id -> Nullable<Integer>,
        key_hash -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Integer,
        occurred_at -> Timestamp,
        admin_id -> Nullable<Integer>,
        admin_email -> Text,
        address -> Text,
        object_kind -> Text,
        object_id -> Integer,
        object_name -> Text,
        action -> Text,
        changes -> Text,
        via_token -> Nullable<Text>,
    }
}

diesel::table! {
    admin_tokens (id) {
        id -> Integer,
        admin_id -> Integer,
        name -> Text,
        token_hash -> Text,
        token_prefix -> Text,
        scope -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(admin_tokens -> admins (admin_id));

diesel::table! {
    api_sessions (id) {
        id -> Integer,
        admin_id -> Integer,
        token_hash -> Text,
        token_prefix -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(api_sessions -> admins (admin_id));

diesel::table! {
    login_throttle (subject) {
        subject -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    limit_counters (app_id, window_seconds, window_start) {
        app_id -> Integer,
        window_seconds -> Integer,
        window_start -> BigInt,
        count -> BigInt,
    }
}

diesel::table! {
    usage_counts (app_id, bucket_seconds, bucket_start, code) {
        app_id -> Integer,
        bucket_seconds -> Integer,
        bucket_start -> BigInt,
        code -> Text,
        count -> BigInt,
    }
}

diesel::table! {
    usage_rollup (id) {
        id -> Integer,
        hour -> BigInt,
        app -> Integer,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Integer,
        event -> Text,
        app_id -> Integer,
        app_name -> Text,
        payload -> Text,
        dedup_key -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
    }
}

diesel::joinable!(apps -> roles (role_id));
diesel::joinable!(limit_counters -> apps (app_id));
diesel::joinable!(role_rules -> roles (role_id));
diesel::joinable!(role_rules -> services (service_id));
diesel::joinable!(apps -> services (storage_service_id));
diesel::allow_tables_to_appear_in_same_query!(
    admins,
    sessions,
    settings,
    services,
    roles,
    apps,
    role_rules,
    change_counter,
    verify_changes,
    audit_events,
    login_throttle,
    admin_tokens,
    api_sessions,
    limit_counters,
    usage_counts,
    usage_rollup,
    webhook_deliveries
);
