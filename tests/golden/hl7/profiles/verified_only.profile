# A sender whose unverified results (OBX-11 R, P) must not reach the ward list
name = verified-only
sending_application = NERVECENTRE
result_status = F C
