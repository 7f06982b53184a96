#!/usr/bin/env python3
"""test_monitor.py: `vigil monitor` replays 1200 hospital-B stays as ~77
simulated ward days (600 hourly rows a day, 14 baseline days) through the
monitoring alarms (issue 14 item 4). A unit change in one input (temperature
in Fahrenheit from day 30) is alarmed on that input on day 30 and never
before; a 2x calibration drift of the model's odds from day 30 is alarmed
within 7 days and never before; the unchanged replay raises no input-drift,
alert-rate or calibration alarm over its 63 monitored days (the counts, the
calibration chart's design effect and its smallest tail probability are
printed). The AI gone quiet (its odds halved from day 30: the dangerous
direction, false reassurance) is alarmed by the quiet-AI chart (the 7-day
share of admission-days with an AI alert, lower limit; REQ MON-ALERT-LOW)
within 7 days and never before; the unchanged replay never raises it."""
import json, os, subprocess, sys

bin_ = os.environ["VIGIL_BIN"]
src = os.environ.get("VIGIL_SOURCE_DIR", ".")
data = os.environ.get("VIGIL_DATA_DIR", "../shared/data")
b19 = os.path.join(data, "physionet2019", "training_setB.tar.gz")
model = os.path.join(src, "models", "vigil-sepsis-2019A.json")
if not os.path.exists(b19):
    print("skip: shared data not found")
    sys.exit(77)
fails = passes = 0
def check(name, ok):
    global fails, passes
    passes += 1 if ok else 0
    fails += 0 if ok else 1
    print(("ok: " if ok else "FAIL: ") + name)

def run(*extra):
    p = subprocess.run([bin_, "monitor", "--model", model, "--data", b19, "--max-stays", "1200",
                        "--json", *extra], capture_output=True, text=True)
    check(f"monitor {' '.join(extra)} exits 0 ({p.stderr.strip()[:200]})", p.returncode == 0)
    return json.loads(p.stdout)

DRIFT_DAY = 30
base = run()
check(f"{base['days']} simulated days, more than a month after the baseline",
      base["days"] - base["baseline_days"] >= 30)
monitored_days = base["days"] - base["baseline_days"]
n_input_alarms = sum(len(d["input_alarms"]) for d in base["per_day"])
print(f"unchanged replay over {monitored_days} monitored days: input-drift alarm days "
      f"{base['input_alarm_days']} ({n_input_alarms} input alarms of "
      f"{monitored_days * base['monitored_inputs']} input-days), alert-rate alarm days "
      f"{base['alert_alarm_days']}, calibration alarm days {base['calibration_alarm_days']}")
check("the unchanged replay raises no input-drift or alert-rate alarm over a month and more",
      base["input_alarm_days"] == 0 and base["alert_alarm_days"] == 0)
# The calibration chart: exact compound-Poisson limits with the baseline's admission-clustered
# design effect (docs/eval.md "Calibration limit"); alpha 0.1% a day, split between the two
# directions, so at most 0.063 false alarm days are expected over these 63 days.
cal_p = [d["calibration_p"] for d in base["per_day"][base["baseline_days"]:]]
print("calibration chart: design effect %.2f, smallest daily tail probability %.3g (alarm at %g)"
      % (base["calibration_design_effect"], min(cal_p), 0.0005))
check("the unchanged replay's calibration chart: no false alarm day in %d (%d)"
      % (monitored_days, base["calibration_alarm_days"]), base["calibration_alarm_days"] == 0)
check("no alarm in the baseline days",
      all(not d["input_alarms"] and not d["alert_alarm"] and not d["calibration_alarm"]
          and not d["alert_low_alarm"] for d in base["per_day"][:base["baseline_days"]]))
check("the unchanged replay: no quiet-AI alarm day in %d (%d; design effect %.2f)"
      % (monitored_days, base["alert_low_alarm_days"], base["alert_low_design_effect"]),
      base["alert_low_alarm_days"] == 0)

quiet = run("--odds", f"0.5:{DRIFT_DAY}")
first_low = quiet["first_alert_low_alarm_day"]
check(f"odds x0.5 from day {DRIFT_DAY}: the quiet-AI chart alarmed on day {first_low}, within 7 "
      "days", first_low is not None and DRIFT_DAY <= first_low < DRIFT_DAY + 7)
low_day = quiet["per_day"][first_low] if first_low is not None and first_low >= 0 else {}
check("its 7-day share of admission-days alerted (%s) is below its lower limit (%s)"
      % (low_day.get("alert_share_7d"), low_day.get("alert_share_7d_low_limit")),
      low_day.get("alert_share_7d", 1) < low_day.get("alert_share_7d_low_limit", 0))
check("the quiet AI raises no alert-rate (too many alerts) alarm", quiet["alert_alarm_days"] == 0)

temp = run("--drift", f"temp_last:1.8:32:{DRIFT_DAY}")
def temp_alarm(d):
    return any(a["input"] == "temp_last" for a in d["input_alarms"])
first = next((d["day"] for d in temp["per_day"] if temp_alarm(d)), None)
check(f"temperature in Fahrenheit from day {DRIFT_DAY}: temp_last alarmed on day {first}",
      first == DRIFT_DAY)
check("and on every day after", all(temp_alarm(d) for d in temp["per_day"][DRIFT_DAY:]))
check("the days before the fault are the unchanged replay's",
      temp["per_day"][:DRIFT_DAY] == base["per_day"][:DRIFT_DAY])

odds = run("--odds", f"2:{DRIFT_DAY}")
first_cal = next((d["day"] for d in odds["per_day"] if d["calibration_alarm"]), None)
check(f"odds x2 from day {DRIFT_DAY}: calibration alarmed on day {first_cal}, within 7 days",
      first_cal is not None and DRIFT_DAY <= first_cal < DRIFT_DAY + 7)
oe = odds["per_day"][first_cal]["oe_7d_vs_baseline"] if first_cal is not None else None
check(f"observed:expected fell below 1 ({oe})", oe is not None and oe < 1.0)
print(f"{passes} passed, {fails} failed")
sys.exit(1 if fails else 0)
