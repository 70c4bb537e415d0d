//! Running an invocation: in a warm or new execution environment (the
//! bootstrap as a child process behind its own Runtime API endpoint), or in
//! process for a function registered with a handler.

use super::*;

impl LambdaInvoke {
    /// Runs one invocation in a warm or new environment.
    pub(super) async fn invoke(
        &self,
        name: &str,
        function: &LambdaFunction,
        payload: Bytes,
        request_id: String,
    ) -> Ended {
        if let Some(handler) = &function.handler {
            return in_process(handler, function, payload, request_id).await;
        }
        let started = Instant::now();
        let warm = lock(&self.inner.idle).get_mut(name).and_then(Vec::pop);
        let mut environment = match warm {
            Some(environment) => environment,
            None => match self.start_environment(name, function).await {
                Ok(environment) => environment,
                Err(detail) => {
                    return failure(
                        request_id,
                        "Runtime.InvalidEntrypoint",
                        &format!("Error: {detail}"),
                        String::new(),
                    );
                }
            },
        };
        let log_start = lock(&environment.output).len();
        environment.api.push(&request_id, payload, function.timeout);
        let Environment { api, child, .. } = &mut environment;
        let outcome = tokio::select! {
            answer = api.answer(&request_id) => match answer {
                Ok(raw) => Ok((raw.is_error, raw.body)),
                Err(init_error) => Err((true, Bytes::from(init_error.to_string()))),
            },
            status = child.wait() => {
                let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                Err((true, error_document(
                    "Runtime.ExitError",
                    &format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
                )))
            }
            () = tokio::time::sleep(function.timeout) => Err((true, error_document(
                "Sandbox.Timedout",
                &format!(
                    "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                    function.timeout.as_secs_f64()
                ),
            ))),
        };
        // Let the output the function printed before answering reach the log.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let printed = {
            let output = lock(&environment.output);
            String::from_utf8_lossy(output.get(log_start..).unwrap_or_default()).into_owned()
        };
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let log = format!(
            "START RequestId: {request_id} Version: $LATEST\n{printed}END RequestId: {request_id}\n\
             REPORT RequestId: {request_id}\tDuration: {elapsed:.2} ms\tMemory Size: {} MB\n",
            function.memory_mb
        );
        let tail = tail_of(&log, 4096);
        match outcome {
            Ok((is_error, body)) => {
                // Kept warm for the next invocation.
                lock(&self.inner.idle)
                    .entry(name.to_owned())
                    .or_default()
                    .push(environment);
                Ended {
                    request_id,
                    function_error: is_error,
                    body,
                    tail,
                }
            }
            Err((_, body)) => {
                // A dead or stuck environment is never reused.
                let _ = environment.child.start_kill();
                let _ = environment.child.wait().await;
                Ended {
                    request_id,
                    function_error: true,
                    body,
                    tail,
                }
            }
        }
    }

    async fn start_environment(
        &self,
        name: &str,
        function: &LambdaFunction,
    ) -> Result<Environment, String> {
        let api = RuntimeApi::start(Vec::new()).await;
        api.set_function_arn(&arn(name));
        let dir = tempfile::Builder::new()
            .prefix("testkit-lambda-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        let task_root = function
            .bootstrap
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut command = tokio::process::Command::new(&function.bootstrap);
        command
            .env_clear()
            .current_dir(dir.path())
            .envs([
                ("PATH", "/usr/local/bin:/usr/bin:/bin:/opt/bin"),
                ("LANG", "en_US.UTF-8"),
                ("TZ", ":UTC"),
                ("_HANDLER", "bootstrap"),
                ("AWS_REGION", REGION),
                ("AWS_DEFAULT_REGION", REGION),
                ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ])
            .env("LAMBDA_TASK_ROOT", &task_root)
            .env("LAMBDA_RUNTIME_DIR", &task_root)
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "testkit/[$LATEST]0")
            .envs(api.lambda_env(name))
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                function.memory_mb.to_string(),
            )
            .envs(lock(&self.inner.base_env).clone())
            .envs(function.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", function.bootstrap.display()))?;
        let output = Arc::new(Mutex::new(Vec::new()));
        let function_log = lock(&self.inner.logs)
            .entry(name.to_owned())
            .or_default()
            .clone();
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(copy_output(stdout, output.clone(), function_log.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(copy_output(stderr, output.clone(), function_log));
        }
        Ok(Environment {
            api,
            child,
            output,
            _dir: dir,
        })
    }
}

async fn copy_output(
    mut from: impl tokio::io::AsyncRead + Unpin,
    environment: Arc<Mutex<Vec<u8>>>,
    function: Arc<Mutex<Vec<u8>>>,
) {
    let mut buffer = [0u8; 8192];
    while let Ok(n) = from.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        lock(&environment).extend_from_slice(&buffer[..n]);
        lock(&function).extend_from_slice(&buffer[..n]);
    }
}

/// An invocation of an in-process function, answered as Lambda answers.
async fn in_process(
    handler: &Handler,
    function: &LambdaFunction,
    payload: Bytes,
    request_id: String,
) -> Ended {
    let started = Instant::now();
    let outcome = tokio::time::timeout(function.timeout, (handler.0)(payload)).await;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let tail = format!(
        "START RequestId: {request_id} Version: $LATEST\nEND RequestId: {request_id}\n\
         REPORT RequestId: {request_id}\tDuration: {elapsed:.2} ms\tMemory Size: {} MB\n",
        function.memory_mb
    );
    let (function_error, body) = match outcome {
        Ok(Ok(body)) => (false, body),
        Ok(Err((kind, message))) => (true, error_document(&kind, &message)),
        Err(_) => (
            true,
            error_document(
                "Sandbox.Timedout",
                &format!(
                    "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                    function.timeout.as_secs_f64()
                ),
            ),
        ),
    };
    Ended {
        request_id,
        function_error,
        body,
        tail,
    }
}
